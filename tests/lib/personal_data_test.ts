// The personal-data table (lib/accounts/personal_data.ts) must know every table the
// store has: a new kind of record is either exported and deleted with the
// person, or said not to name anyone.
import assert from "node:assert/strict";
import { recordSchemas } from "../../lib/app/records.ts";
import {
  addressForms,
  NOT_PERSONAL,
  personalTables,
  subjectNames,
} from "../../lib/accounts/personal_data.ts";

Deno.test("personal data: every table of the record schemas is personal or said not to be", () => {
  for (const table of Object.keys(recordSchemas)) {
    const personal = Object.hasOwn(personalTables, table);
    const not = Object.hasOwn(NOT_PERSONAL, table);
    assert.ok(
      personal || not,
      `table ${table}: add a row to personalTables (how it names a person) ` +
        `or to NOT_PERSONAL (why it names nobody)`,
    );
    assert.ok(!(personal && not), `table ${table} is in both lists`);
  }
  for (
    const table of [
      ...Object.keys(personalTables),
      ...Object.keys(NOT_PERSONAL),
    ]
  ) {
    assert.ok(Object.hasOwn(recordSchemas, table), `no table ${table}`);
  }
});

Deno.test("personal data: a subject names an address as stored, as its mailbox, or before a client", () => {
  assert.deepEqual(addressForms("ada+news@example.com"), [
    "ada+news@example.com",
    "ada@example.com",
  ]);
  for (
    const subject of [
      "ada+news@example.com",
      "ada@example.com",
      "ada+news@example.com 192.0.2.1",
      "ada@example.com 2001:db8::/48",
    ]
  ) assert.ok(subjectNames(subject, "ada+news@example.com"), subject);
  for (
    const subject of [
      "bada@example.com",
      "ada@example.co",
      "ada@example.com.evil",
      "192.0.2.1",
      42,
    ]
  ) assert.ok(!subjectNames(subject, "ada+news@example.com"), String(subject));
});

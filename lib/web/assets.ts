// Where the built browser bundle lives (its name carries a content hash, see
// tools/build_islands.ts).
import manifest from "../../static/build/manifest.json" with { type: "json" };

export const ISLANDS_SCRIPT = `/static/build/${manifest.islands}`;

// Every island by name: the client entry hydrates from it and the server's
// <Island> wrapper type-checks names and props against it.
import { NewPassword } from "./NewPassword.tsx";
import { PasswordField } from "./PasswordField.tsx";
import { RegisterForm } from "./RegisterForm.tsx";
import { ResendButton } from "./ResendButton.tsx";
import { WaitButton } from "./WaitButton.tsx";

export const ISLANDS = {
  NewPassword,
  PasswordField,
  RegisterForm,
  ResendButton,
  WaitButton,
};
export type IslandName = keyof typeof ISLANDS;

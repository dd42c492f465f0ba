// The console is a client of Lambent's own AWS APIs, signing every request with the signed-in
// user's key: it can do nothing the user's policies do not allow.
import {LambdaClient} from "@aws-sdk/client-lambda";
import {STSClient} from "@aws-sdk/client-sts";

export interface Session {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  region: string;
  arn?: string;
}

const KEY = "lambent.session";

export function loadSession(): Session|null {
  const raw = sessionStorage.getItem(KEY);
  if (!raw) return null;
  try {
    return JSON.parse(raw) as Session;
  } catch {
    return null;
  }
}

export function saveSession(s: Session|null): void {
  if (s)
    sessionStorage.setItem(KEY, JSON.stringify(s));
  else
    sessionStorage.removeItem(KEY);
}

/** Every SDK client's settings: this origin, the user's key, one attempt (errors show as they come). */
export function clientConfig(s: Session) {
  return {
    region: s.region,
    endpoint: window.location.origin,
    credentials: {
      accessKeyId: s.accessKeyId,
      secretAccessKey: s.secretAccessKey,
      sessionToken: s.sessionToken || undefined,
    },
    maxAttempts: 1,
  };
}

export const lambda = (s: Session) => new LambdaClient(clientConfig(s));
export const sts = (s: Session) => new STSClient(clientConfig(s));

/** AWS's message for a failed call (AccessDenied, InvalidClientTokenId, ...), as the API gave it. */
export function errorText(e: unknown): string {
  const err = e as {
    name?: string;
    message?: string
  };
  if (err && err.message) return err.name && err.name !== "Error" ? `${err.name}: ${err.message}` : err.message;
  return String(e);
}

/**
 * A button's action: the button disabled while it runs, `status` showing `pending` (when given),
 * then the text the action returns, or AWS's error.
 */
export async function act(
    button: HTMLButtonElement, status: HTMLElement, work: () => Promise<string>, pending?: string): Promise<void> {
  button.disabled = true;
  if (pending !== undefined) {
    status.className = "status";
    status.textContent = pending;
  }
  try {
    const done = await work();
    status.className = "status";
    status.textContent = done;
  } catch (e) {
    status.className = "error";
    status.textContent = errorText(e);
  } finally {
    button.disabled = false;
  }
}

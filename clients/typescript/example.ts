// A small typed NeonHub client: every type below comes from the generated neonhub-api.d.ts
// (run ./check.sh), so a change to the API contract that breaks this code fails the type check.
import type { components, operations } from "./neonhub-api";

type Schemas = components["schemas"];
/** The body of POST /api/v1/runs: one variant per agent and intent, each with its own payload. */
export type RunCreate = operations["runs_create"]["requestBody"]["content"]["application/json"];
export type Run = Schemas["RunOut"];
export type RunDetail = operations["runs_get"]["responses"][200]["content"]["application/json"];
export type ApiError = Schemas["Error"];
export type RunStatus = Run["status"];

export class NeonHubError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.error.message);
  }

  /** Each invalid field with its message (a 422 names them in error.details). */
  fieldErrors(): Record<string, string> {
    const out: Record<string, string> = {};
    const details = this.body.error.details;
    if (Array.isArray(details)) {
      for (const item of details) {
        out[item.field ?? "body"] = item.message;
      }
    }
    return out;
  }
}

export class NeonHub {
  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.baseUrl}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${this.apiKey}`,
        "Content-Type": "application/json",
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json: unknown = await response.json();
    if (!response.ok) {
      throw new NeonHubError(response.status, json as ApiError);
    }
    return json as T;
  }

  createRun(body: RunCreate): Promise<Run> {
    return this.call<Run>("POST", "/api/v1/runs", body);
  }

  getRun(id: string): Promise<RunDetail> {
    return this.call<RunDetail>("GET", `/api/v1/runs/${id}`);
  }
}

const FINISHED: readonly RunStatus[] = ["completed", "failed", "cancelled"];

export async function triageTicket(hub: NeonHub, text: string): Promise<RunDetail | string> {
  try {
    const run = await hub.createRun({
      agent: "support",
      intent: "triage",
      payload: { content: text, channel: "email" },
    });
    let detail = await hub.getRun(run.id);
    while (!FINISHED.includes(detail.status)) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      detail = await hub.getRun(run.id);
    }
    return detail;
  } catch (error) {
    if (error instanceof NeonHubError && error.status === 422) {
      // e.g. {"payload.content": "Field required"}
      const fields = error.fieldErrors();
      return Object.entries(fields)
        .map(([field, message]) => `${field}: ${message}`)
        .join("; ");
    }
    throw error;
  }
}

// The contract refuses what the API would: these lines must not type-check.
export const wrongPayload: RunCreate = {
  agent: "support",
  intent: "triage",
  // @ts-expect-error a triage payload has no `platforms`; a social publish does
  payload: { content: "Hi", platforms: ["reddit"] },
};
// @ts-expect-error "done" is not a run status
export const wrongStatus: RunStatus = "done";

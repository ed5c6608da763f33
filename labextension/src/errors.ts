/**
 * Errors of the Model Hub API client (no JupyterLab imports, so the panel's
 * state logic can be unit-tested in plain Node).
 */

/**
 * An error from the Model Hub API, or from reaching it.
 *
 * `status` is the HTTP status, or 0 when the server could not be reached.
 * `reason` is the server's machine-readable reason ("invalid", "not_found",
 * "conflict") when it sent one.
 */
export class ModelHubError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly reason: string | null = null
  ) {
    super(message);
    this.name = 'ModelHubError';
  }

  /** True for a 4xx answer: the request itself was refused. */
  get isClientError(): boolean {
    return this.status >= 400 && this.status < 500;
  }

  /** True when the server could not be reached at all. */
  get isNetworkError(): boolean {
    return this.status === 0;
  }
}

/** Turn a failed HTTP answer into a readable error. */
export function errorFromResponse(status: number, body: any): ModelHubError {
  const reason =
    body && typeof body.reason === 'string' ? (body.reason as string) : null;
  if (body && typeof body.message === 'string' && body.message) {
    return new ModelHubError(body.message, status, reason);
  }
  if (status === 404) {
    return new ModelHubError(
      'The Model Hub API was not found on this server (HTTP 404). ' +
        'Is the jupyter_modelhub server extension enabled?',
      status,
      reason
    );
  }
  if (status === 403 || status === 401) {
    return new ModelHubError(
      `Not allowed to use the Model Hub API (HTTP ${status}). Try reloading the page.`,
      status,
      reason
    );
  }
  return new ModelHubError(
    `The Model Hub API failed (HTTP ${status}).`,
    status,
    reason
  );
}

/** A readable message for any error. */
export function messageOf(error: unknown): string {
  if (error instanceof Error && error.message) {
    return error.message;
  }
  return String(error);
}

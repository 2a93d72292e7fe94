/**
 * The one catalogue of error codes: each code's HTTP status and the sentence a person reads.
 * Every transport maps AppError through here (HTTP body, widget error frame, socket.io ack).
 */
export const ERROR_CATALOGUE = {
  VALIDATION_FAILED: { status: 400, message: 'The request is not valid.' },
  PAYLOAD_TOO_LARGE: { status: 413, message: 'The request body is too large.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Send JSON (content-type: application/json).' },
  METHOD_NOT_ALLOWED: { status: 405, message: 'This method is not allowed here.' },
  UPGRADE_REQUIRED: { status: 426, message: 'This address takes WebSocket connections only.' },
  MALFORMED_JSON: { status: 400, message: 'The frame is not valid JSON.' },
  UNKNOWN_TYPE: { status: 400, message: 'This message type is not known.' },
  TEXT_TOO_LONG: { status: 400, message: 'The message is too long (2,000 characters at most).' },
  BINARY_NOT_SUPPORTED: { status: 400, message: 'Binary frames are not supported; send JSON text.' },
  NOT_STARTED: { status: 409, message: 'Start or resume a conversation first.' },
  ALREADY_STARTED: { status: 409, message: 'This connection already has a conversation.' },
  INVALID_TOKEN: { status: 401, message: 'The conversation token is not valid.' },
  INVALID_CREDENTIALS: { status: 401, message: 'The e-mail or the password is wrong.' },
  UNAUTHORIZED: { status: 401, message: 'Sign in first.' },
  FORBIDDEN: { status: 403, message: 'Your role does not allow this.' },
  ORIGIN_NOT_ALLOWED: { status: 403, message: 'This site may not open the chat.' },
  AT_CAPACITY: { status: 409, message: 'You already have as many chats as your capacity allows.' },
  QUEUE_EMPTY: { status: 404, message: 'Nobody is waiting in your queues.' },
  SURVEY_NOT_OPEN: { status: 409, message: 'There is no survey for this chat yet; it opens when the chat ends.' },
  SURVEY_CLOSED: { status: 409, message: 'This survey has closed; thank you anyway.' },
  ALREADY_TAKEN: { status: 409, message: 'Another agent has already taken this chat.' },
  NOT_FOUND: { status: 404, message: 'Not found.' },
  CONVERSATION_CLOSED: { status: 409, message: 'This conversation has ended; start a new one.' },
  INVALID_TRANSITION: { status: 409, message: 'The conversation cannot move to that state now.' },
  SIGN_IN_LOCKED: { status: 429, message: 'Too many failed sign-ins; try again later.' },
  RATE_LIMITED: { status: 429, message: 'Too many messages at once; wait a moment and try again.' },
  STORE_UNAVAILABLE: { status: 503, message: 'Storage is unavailable right now; please retry shortly.' },
  SERVER_DRAINING: { status: 503, message: 'The server is restarting; reconnect in a moment.' },
  INTERNAL: { status: 500, message: 'Something went wrong on our side.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERROR_CATALOGUE[code].message, options);
    this.name = 'AppError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Any thrown value as an AppError; unknown errors become INTERNAL without leaking details. */
export function toAppError(error: unknown): AppError {
  return isAppError(error) ? error : new AppError('INTERNAL', undefined, { cause: error });
}

/** Errors Fastify itself raises (bad body, bad content type, ...) mapped onto the catalogue by status. */
export function fromFrameworkError(error: { statusCode?: number; validation?: unknown; message?: string }): AppError | null {
  const status = error.statusCode ?? (error.validation ? 400 : undefined);
  switch (status) {
    case 400:
      return new AppError('VALIDATION_FAILED', 'The request is not valid (malformed body or parameters).');
    case 405:
      return new AppError('METHOD_NOT_ALLOWED');
    case 413:
      return new AppError('PAYLOAD_TOO_LARGE');
    case 415:
      return new AppError('UNSUPPORTED_MEDIA_TYPE');
    case 429:
      return new AppError('RATE_LIMITED');
    default:
      return status !== undefined && status >= 400 && status < 500 ? new AppError('VALIDATION_FAILED', 'The request is not valid.') : null;
  }
}

/** The HTTP error body, shaped as Fastify's own: {statusCode, code, error, message}. */
export function httpErrorBody(error: AppError): { statusCode: number; code: ErrorCode; error: string; message: string } {
  return { statusCode: error.status, code: error.code, error: httpReason(error.status), message: error.message };
}

function httpReason(status: number): string {
  switch (status) {
    case 400: return 'Bad Request';
    case 401: return 'Unauthorized';
    case 403: return 'Forbidden';
    case 404: return 'Not Found';
    case 405: return 'Method Not Allowed';
    case 413: return 'Payload Too Large';
    case 415: return 'Unsupported Media Type';
    case 426: return 'Upgrade Required';
    case 409: return 'Conflict';
    case 429: return 'Too Many Requests';
    case 503: return 'Service Unavailable';
    default: return 'Internal Server Error';
  }
}

/** Base of every operating error the ledger raises on purpose (programmer errors are assertions). */
export class LedgerError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'LedgerError';
  }
}

/** A store or stream refused for now (throttling, lost races past the retry bound): retry later. */
export class TransientLedgerError extends LedgerError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransientLedgerError';
  }
}

/** A statement cursor that this service did not issue. A client error (4xx). */
export class InvalidCursorError extends LedgerError {
  constructor(message = 'cursor is not valid for this account', options?: ErrorOptions) {
    super(message, options);
    this.name = 'InvalidCursorError';
  }
}

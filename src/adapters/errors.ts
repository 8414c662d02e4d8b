/** A record that cannot become an event. The message is the reason only; the caller adds file:line. */
export class RecordError extends Error {
  override name = 'RecordError';
}

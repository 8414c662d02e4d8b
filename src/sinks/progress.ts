/** A progress line on stderr for long scans (only when stderr is a terminal). */
export class Progress {
  private last = 0;
  private readonly start = Date.now();
  private readonly enabled: boolean;
  constructor(private readonly err: NodeJS.WriteStream = process.stderr) {
    this.enabled = Boolean(err.isTTY);
  }
  tick(events: number, alerts: number, label: string): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 200) return;
    this.last = now;
    const secs = (now - this.start) / 1000;
    this.err.write(`\r\x1b[K${label}  ${events} events  ${Math.round(events / Math.max(secs, 1e-3))}/s  ${alerts} alerts`);
  }
  done(): void {
    if (this.enabled) this.err.write('\r\x1b[K');
  }
}

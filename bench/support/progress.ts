/**
 * One status line, rewritten in place on a terminal. When stderr is not a terminal (CI, a log file) the line
 * is printed every few seconds instead, so a log still shows the run moving without filling up.
 */
export class Progress {
  readonly #tty = process.stderr.isTTY === true;
  readonly #started = performance.now();
  #lastPrinted = 0;
  #showing = false;

  update(text: string): void {
    const line = `[${this.#elapsed()}] ${text}`;
    if (this.#tty) {
      const width = process.stderr.columns ?? 120;
      process.stderr.write(`\r\x1b[K${line.slice(0, width - 1)}`);
      this.#showing = true;
    } else if (performance.now() - this.#lastPrinted > 5_000) {
      process.stderr.write(`${line}\n`);
      this.#lastPrinted = performance.now();
    }
  }

  /** A line that stays: the progress line is cleared first. */
  log(text: string): void {
    if (this.#showing) process.stderr.write('\r\x1b[K');
    this.#showing = false;
    process.stderr.write(`[${this.#elapsed()}] ${text}\n`);
  }

  #elapsed(): string {
    const seconds = Math.floor((performance.now() - this.#started) / 1000);
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  }
}

// What the benchmark scripts share: their results table (printed for the terminal and as markdown for
// bench/RESULTS.md) and waiting for a child process's IPC message.
import Table from 'cli-table3';

/** A results table: the first two columns (framework, variant) are text, the others numbers. */
export class ResultTable {
  constructor(head) {
    this.table = new Table({ head, style: { head: [], border: [] } });
    this.markdown = [
      '| ' + head.join(' | ') + ' |',
      '|' + head.map((_, i) => (i < 2 ? '---' : '---:')).join('|') + '|',
    ];
  }

  push(row) {
    this.table.push(row);
    this.markdown.push('| ' + row.join(' | ') + ' |');
  }

  print() {
    console.log(this.table.toString());
    console.log('\nmarkdown:\n' + this.markdown.join('\n'));
  }
}

/** The next IPC message of `type` from a child process; rejects if it exits first or after `timeoutMs`. */
export function nextMessage(child, type, timeoutMs = 60_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${type} message from process ${child.pid}`)),
      timeoutMs,
    );
    const onMessage = (m) => {
      if (m?.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(m);
    };
    const onExit = (code) => {
      clearTimeout(timer);
      reject(new Error(`process ${child.pid} exited (${code}) before ${type}`));
    };
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

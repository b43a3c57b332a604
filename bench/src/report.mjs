// Results tables, printed for the terminal and as markdown for bench/RESULTS.md.
import Table from 'cli-table3';

/** A number with `digits` decimals, '-' if it is not finite. */
export const fmt = (n, digits = 0) => (Number.isFinite(n) ? n.toFixed(digits) : '-');

/** A results table; the first `textColumns` columns are text, the others numbers (right-aligned in markdown). */
export class ResultTable {
  constructor(head, textColumns = 2) {
    this.table = new Table({ head, style: { head: [], border: [] } });
    this.markdown = [
      '| ' + head.join(' | ') + ' |',
      '|' + head.map((_, i) => (i < textColumns ? '---' : '---:')).join('|') + '|',
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

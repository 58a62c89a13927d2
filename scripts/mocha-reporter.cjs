// Mocha's spec reporter plus the closing line CI reads: "N passed, N failed[, N skipped]".
'use strict';
const Mocha = require('mocha');
const { EVENT_RUN_END } = Mocha.Runner.constants;

class CineCardReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(EVENT_RUN_END, () => {
      const s = runner.stats || this.stats;
      const skipped = s.pending ? `, ${s.pending} skipped` : '';
      // Printed after mocha's own epilogue so it is the last line of the run.
      process.on('exit', () => process.stdout.write(`\n${s.passes} passed, ${s.failures} failed${skipped}\n`));
    });
  }
}
module.exports = CineCardReporter;

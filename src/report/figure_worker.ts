/**
 * A report's figure process (built to dist/report-figure-worker.js; figure_pool.ts forks it): draws
 * each figure it is sent to its SVG and PNG files, and answers with the key, or the error.
 */
import { writeFigure, type FigureJob } from './figure_files.js';

const dir = process.argv[2];
process.on('message', (job: FigureJob) => {
  writeFigure(dir, job).then(
    () => process.send!({ key: job.key }),
    (error: Error) => process.send!({ key: job.key, error: error.message }),
  );
});

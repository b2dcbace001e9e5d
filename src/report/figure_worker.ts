/**
 * A report's figure process (built to dist/report-figure-worker.js; figure_pool.ts forks it): draws
 * each figure it is sent to its SVG and PNG files, in the order sent, and answers with the key (and
 * the error, if it failed) once the figure's PNG is written.
 */
import { FigureDrawer, type FigureJob } from './figure_files.js';

const drawer = new FigureDrawer(process.argv[2]);
const answer = (key: string, error: Error | null): void => {
  process.send!(error ? { key, error: error.message } : { key });
};
let queue = Promise.resolve();
process.on('message', (job: FigureJob) => {
  queue = queue.then(() => drawer.draw(job).then(
    ({ png }) => { void png.then((error) => answer(job.key, error)); },
    (error: Error) => answer(job.key, error),
  ));
});

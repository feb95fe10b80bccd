// The report page's entry: reads the report's JSON from the page (script#report-data), renders
// it, then turns each chart's canvas into an image so the page stands without its script (the
// HTML report) and prints as drawn (the PDF). <html data-ready> says it is done.
import 'uplot/dist/uPlot.min.css';
import '../styles.css';
import './report.css';
import { render } from 'preact';
import type { MonthlyReport } from '../../../src/server/report/schema.ts';
import { ReportPage } from './report.tsx';

// Written by the server from a report it validated (src/server/report/schema.ts).
const report = JSON.parse(document.getElementById('report-data')!.textContent!) as MonthlyReport;
document.title = `patchloop report ${report.month}`;
render(<ReportPage report={report} />, document.getElementById('report')!);

/** Each chart's canvas as an image, then the page says it is done. */
function freeze(): void {
  for (const canvas of document.querySelectorAll('canvas')) {
    const img = document.createElement('img');
    img.src = canvas.toDataURL('image/png');
    img.width = canvas.clientWidth;
    img.height = canvas.clientHeight;
    img.className = 'chart-image';
    img.style.cssText = canvas.style.cssText;
    canvas.replaceWith(img);
  }
  document.documentElement.dataset.ready = 'true';
}

// The charts draw after the render (in effects): wait until every chart box holds its canvas.
let tries = 0;
const waitForCharts = (): void => {
  const boxes = document.querySelectorAll('.chart');
  const drawn = [...boxes].every((b) => b.querySelector('canvas'));
  if (drawn || ++tries > 200) freeze();
  else setTimeout(waitForCharts, 25);
};
setTimeout(waitForCharts, 0);

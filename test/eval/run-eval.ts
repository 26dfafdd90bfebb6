import { formatReport, runEvaluation } from './evaluate.ts';

// `npm run eval`: prints the offline agent's answer and fallback precision and recall on the labelled set.
console.log(formatReport(await runEvaluation()));

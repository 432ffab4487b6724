/**
 * Grades per area: the worst finding decides the letter — A none, B only low or informational,
 * C medium, D high, F critical — and `-` when no check of the area reached a verdict.
 */
import { AREAS, type AreaGrade, type CheckOutcome, type Grade, type Severity } from './types.js';

const LETTER: Record<Severity, Grade> = { critical: 'F', high: 'D', medium: 'C', low: 'B', info: 'B' };
const ORDER: Grade[] = ['A', 'B', 'C', 'D', 'F'];

/** The grade of every area, in report order. */
export function gradeAreas(outcomes: readonly CheckOutcome[]): AreaGrade[] {
  return AREAS.map((area) => {
    const mine = outcomes.filter((o) => o.area === area);
    const tested = mine.filter((o) => o.status === 'passed' || o.status === 'failed');
    const findings = mine.flatMap((o) => o.findings);
    let grade: Grade = tested.length === 0 ? '-' : 'A';
    for (const finding of findings) {
      const letter = LETTER[finding.severity];
      if (grade === '-' || ORDER.indexOf(letter) > ORDER.indexOf(grade)) grade = letter;
    }
    return { area, grade, tested: tested.length, total: mine.length, findings: findings.length };
  });
}

/** The plate as read against the plate (or pattern) as listed, differing characters marked. */
import type { Alert } from '../alert-types.js';
import { patternDiff, plateDiff, type PlateChar } from '../plate-diff.js';

function Chars({ chars, label }: { chars: PlateChar[]; label: string }) {
  const differing = chars.filter((c) => c.differs).length;
  return (
    <span class="plate-big mono" aria-label={`${label} ${chars.map((c) => c.ch).join('')}${differing > 0 ? `, ${differing} differing` : ''}`}>
      {chars.map((c, i) => (
        <span key={i} class={c.differs ? 'diff' : undefined}>
          {c.ch}
        </span>
      ))}
    </span>
  );
}

export function PlateCompare({ alert }: { alert: Alert }) {
  const listed = alert.hotlistPlate ?? alert.pattern ?? '';
  const d = alert.hotlistPlate !== undefined ? plateDiff(alert.matchedPlate, listed) : patternDiff(alert.matchedPlate, listed);
  return (
    <div class="plates">
      <div>
        <div class="label">As read{alert.plate !== alert.matchedPlate ? ` (raw “${alert.plate}”)` : ''}</div>
        <Chars chars={d.read} label="read" />
        <div class="sub">{alert.state ?? 'state unknown'}</div>
      </div>
      <div>
        <div class="label">As listed{alert.pattern !== undefined ? ' (pattern)' : ''}</div>
        <Chars chars={d.listed} label="listed" />
        <div class={`sub ${alert.stateMismatch === true ? 'warn' : ''}`}>{alert.hotlistState ?? 'any state'}</div>
      </div>
    </div>
  );
}

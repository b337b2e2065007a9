import { useI18n } from '../i18n.js';
import { GROUPINGS } from '../types.js';

/** The "group by" picker of the Overview and Cohorts pages: no grouping ('') or one of `GROUPINGS`. */
export function GroupBySelect({
  value,
  onChange,
  testId,
}: {
  value: string;
  onChange: (by: string) => void;
  testId: string;
}) {
  const { t } = useI18n();
  return (
    <label className="field inline">
      <span>{t('groupBy')}</span>
      <select value={value} onChange={(e) => onChange(e.target.value)} data-testid={testId}>
        <option value="">{t('groupNone')}</option>
        {GROUPINGS.map((g) => (
          <option key={g} value={g}>
            {g}
          </option>
        ))}
      </select>
    </label>
  );
}

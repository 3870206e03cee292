import { useState, type FormEvent } from 'react';
import { ErrorNotice } from '../../components/Notice';
import { TableHead } from '../../components/TableHead';
import { useEvaluateAll } from './api';

const EXAMPLE = JSON.stringify({ key: 'user-42', country: 'NL', appVersion: '2.3.1' }, null, 2);

/** A context as JSON → every flag's result with its reason and rule, as an SDK would compute it. */
export function Playground({ env }: { env: string }) {
  const evaluate = useEvaluateAll();
  const [text, setText] = useState(EXAMPLE);
  const [parseError, setParseError] = useState<string | null>(null);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    let context: unknown;
    try {
      context = JSON.parse(text);
    } catch (error) {
      setParseError(`The context is not valid JSON: ${(error as Error).message}`);
      return;
    }
    if (typeof context !== 'object' || context === null || Array.isArray(context)) {
      setParseError('The context must be a JSON object, such as {"key": "user-42"}.');
      return;
    }
    setParseError(null);
    evaluate.mutate({ env, context: context as Record<string, unknown> });
  };
  const results = evaluate.data ? Object.entries(evaluate.data.results).sort(([a], [b]) => a.localeCompare(b)) : [];
  return (
    <main className="page">
      <h1>Playground</h1>
      <form onSubmit={submit} className="stack">
        <div className="field">
          <label htmlFor="playground-context">Context (JSON)</label>
          <textarea
            id="playground-context"
            rows={8}
            value={text}
            onChange={(e) => setText(e.target.value)}
            spellCheck={false}
            aria-invalid={parseError ? true : undefined}
            aria-describedby={parseError ? 'playground-error' : undefined}
          />
          {parseError && (
            <small id="playground-error" className="field-error" role="alert">
              {parseError}
            </small>
          )}
        </div>
        <ErrorNotice error={evaluate.error} />
        <div className="actions">
          <button type="submit" className="primary" disabled={evaluate.isPending}>
            Evaluate in {env}
          </button>
        </div>
      </form>
      {evaluate.data && (
        <table className="flag-table results">
          <caption className="muted">
            {results.length} flags in {evaluate.data.environment} at revision {evaluate.data.revision}
          </caption>
          <TableHead columns={['Flag', 'Result', 'Reason', 'Rule', 'Variant and value']} />
          <tbody>
            {results.map(([key, result]) => (
              <tr key={key} data-flag={key}>
                <td data-label="Flag" className="flag-key">
                  {key}
                </td>
                <td data-label="State">
                  <span className={`state ${result.enabled ? 'state-on' : 'state-off'}`}>{result.enabled ? 'On' : 'Off'}</span>
                </td>
                <td data-label="Reason">
                  <code>{result.reason}</code>
                  {result.errorCode && <span className="muted"> ({result.errorCode})</span>}
                </td>
                <td data-label="Rule">{result.ruleId ?? '—'}</td>
                <td data-label="Variant">{result.variant ? `${result.variant} = ${JSON.stringify(result.value)}` : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </main>
  );
}

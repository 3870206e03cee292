/** A 412: what is stored now (someone else's change) next to the draft, with the two ways out. */
export function ConflictNotice({ message, what, stored, onReapply, onDiscard }: { message: string; what: string; stored: string; onReapply: () => void; onDiscard: () => void }) {
  return (
    <div role="alert" className="notice notice-warning">
      <p>
        {message} {what} What is stored now:
      </p>
      {/* Focusable: a long document scrolls, and keyboard users must reach all of it. */}
      <pre className="json" tabIndex={0}>
        {stored}
      </pre>
      <div className="actions">
        <button type="button" className="primary" onClick={onReapply}>
          Re-apply my change
        </button>
        <button type="button" onClick={onDiscard}>
          Discard my change
        </button>
      </div>
    </div>
  );
}

import { useId } from 'react';
import { isProduction, type Environment } from './api';

interface Props {
  environments: Environment[];
  selected: string;
  onSelect: (key: string) => void;
}

/** Always in the header; production is marked in the option and with a badge. */
export function EnvironmentSwitcher({ environments, selected, onSelect }: Props) {
  const id = useId();
  const current = environments.find((e) => e.key === selected);
  return (
    <div className="env-switcher">
      <label htmlFor={id}>Environment</label>
      <select id={id} value={selected} onChange={(e) => onSelect(e.target.value)}>
        {environments.map((env) => (
          <option key={env.key} value={env.key}>
            {env.name || env.key}
            {isProduction(env) ? ' (production)' : ''}
          </option>
        ))}
      </select>
      {current && isProduction(current) && <span className="badge badge-production">Production</span>}
    </div>
  );
}

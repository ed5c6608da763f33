/**
 * A labelled choice among a few fixed values (a monitor's window, a chart's
 * range): the same control, the same words and the same keyboard behaviour
 * wherever the panel asks "over how long".
 */
import * as React from 'react';

export function Picker<T extends string>(props: {
  label: string;
  className: string;
  value: T;
  choices: readonly T[];
  labels: Record<T, string>;
  onChange: (value: T) => void;
}): React.ReactElement {
  const { label, className, value, choices, labels, onChange } = props;
  return (
    <label className="jp-ModelHub-label">
      <span className="jp-ModelHub-labelText">{label}</span>
      <select className={className} value={value} onChange={event => onChange(event.target.value as T)}>
        {choices.map(choice => (
          <option key={choice} value={choice}>
            {labels[choice]}
          </option>
        ))}
      </select>
    </label>
  );
}

/**
 * The convert form: the rows to prove equivalence on (the input example
 * stored with the version, and optionally one stored with another version of
 * the model as an extra sample), the tolerance and the ONNX opset, checked as
 * the user types with the server's rules (`ConvertRequest`). It closes once
 * the server accepted the conversion; a refusal stays in the dialog.
 */
import * as React from 'react';

import type { IConvertRequest, IVersion } from '../../api';
import { Field, FormFooter, IFormHandle } from '../../dialogs';
import { messageOf } from '../../errors';
import type { ServerRules } from '../../rules';

const LABELS = { tolerance: 'Tolerance', opset: 'Opset', sample: 'Sample' };

function rowCount(example: unknown): number | null {
  if (Array.isArray(example)) {
    return example.length;
  }
  const data = (example as { data?: unknown } | null)?.data;
  return Array.isArray(data) ? data.length : null;
}

function rows(count: number | null): string {
  return count === null ? '' : count === 1 ? ', 1 row' : `, ${count} rows`;
}

export function ConvertForm(props: {
  version: IVersion;
  /** The model's versions: any with a stored input example can lend it as a sample. */
  versions: readonly IVersion[];
  rules: ServerRules;
  handle: IFormHandle;
  convert: (request: IConvertRequest) => Promise<void>;
}): React.ReactElement {
  const { version, rules, handle } = props;
  const [sample, setSample] = React.useState('');
  const [tolerance, setTolerance] = React.useState('');
  const [opset, setOpset] = React.useState('');
  const [busy, setBusy] = React.useState(false);
  const [serverError, setServerError] = React.useState<string | null>(null);
  const [, setReady] = React.useState(rules.ready);
  React.useEffect(() => {
    void rules.load().then(setReady);
  }, []);

  const own = version.input_example !== null && version.input_example !== undefined;
  const lenders = props.versions.filter(
    v => v.ref !== version.ref && v.input_example !== null && v.input_example !== undefined
  );
  const request: IConvertRequest = {};
  if (sample) {
    request.sample = props.versions.find(v => v.ref === sample)?.input_example;
  }
  if (tolerance.trim()) {
    request.tolerance = Number(tolerance);
  }
  if (opset.trim()) {
    request.opset = Number(opset);
  }
  const errors = rules.check('ConvertRequest', request, LABELS);
  if (!own && !sample) {
    errors.sample = `${version.ref} has no input example stored: choose rows to check the conversion on.`;
  }
  const blocked = Object.keys(errors).length ? 'Correct the fields marked above to convert.' : null;

  const submit = async (event: React.FormEvent) => {
    event.preventDefault();
    if (busy || blocked) {
      return;
    }
    setBusy(true);
    setServerError(null);
    try {
      await props.convert(request);
      handle.close();
    } catch (error) {
      setServerError(messageOf(error));
      setBusy(false);
    }
  };
  const number = (label: string, field: 'tolerance' | 'opset', value: string, set: (v: string) => void, hint: string) => (
    <Field label={label} error={errors[field]} hint={hint}>
      {(id, describedBy) => (
        <input
          id={id}
          type="number"
          step={field === 'opset' ? 1 : 'any'}
          {...rules.bounds('ConvertRequest', field)}
          aria-describedby={describedBy}
          aria-invalid={!!errors[field]}
          value={value}
          placeholder="server default"
          onChange={event => {
            setServerError(null);
            set(event.target.value);
          }}
        />
      )}
    </Field>
  );
  return (
    <form className="jp-ModelHub-form jp-ModelHub-convertForm" aria-label={`Convert ${version.ref}`} onSubmit={submit} noValidate>
      <Field
        label="Check equivalence on"
        error={errors.sample}
        hint={own ? `Always on the input example stored with ${version.ref}${rows(rowCount(version.input_example))}.` : undefined}
      >
        {(id, describedBy) => (
          <select id={id} aria-describedby={describedBy} value={sample} onChange={event => setSample(event.target.value)}>
            <option value="">{own ? 'its input example only' : 'none (choose one below)'}</option>
            {lenders.map(v => (
              <option key={v.ref} value={v.ref}>
                also the input example of {v.ref}
                {rows(rowCount(v.input_example))}
              </option>
            ))}
          </select>
        )}
      </Field>
      {number('Tolerance', 'tolerance', tolerance, setTolerance, 'Largest difference allowed between the two models’ outputs.')}
      {number('Opset', 'opset', opset, setOpset, 'ONNX operator set; blank: the newest the server has tested.')}
      <FormFooter
        error={serverError}
        busy={busy}
        blocked={blocked}
        submitLabel="Convert"
        busyLabel="Starting…"
        onCancel={handle.cancel}
      />
    </form>
  );
}

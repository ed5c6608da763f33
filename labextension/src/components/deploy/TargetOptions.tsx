/**
 * The options of the deploy form that depend on the target, as the REST
 * deploy schema has them: process (instances, environment, optimize for
 * scikit-learn), docker (CPU, memory, GPU, an image of one's own) and
 * kubernetes (the same, plus an autoscaler's maximum, KServe, namespace and
 * kubeconfig context). Blank fields take the server's defaults.
 */
import * as React from 'react';

import { Field } from '../../dialogs';
import type { FieldErrors, ServerRules } from '../../rules';
import type { IDeployForm } from './plan';

export function TargetOptions(props: {
  form: IDeployForm;
  errors: FieldErrors;
  rules: ServerRules;
  flavor: string;
  newEndpoint: boolean;
  update: (change: Partial<IDeployForm>) => void;
}): React.ReactElement {
  const { form, errors, rules, update } = props;
  const text = (label: string, field: string, key: keyof IDeployForm, placeholder = '') => (
    <Field label={label} error={errors[field]}>
      {(id, describedBy) => (
        <input
          id={id}
          aria-describedby={describedBy}
          aria-invalid={!!errors[field]}
          value={form[key] as string}
          placeholder={placeholder}
          spellCheck={false}
          onChange={event => update({ [key]: event.target.value })}
        />
      )}
    </Field>
  );
  const number = (label: string, field: string, key: keyof IDeployForm, placeholder: string, step = 1) => (
    <Field label={label} error={errors[field]}>
      {(id, describedBy) => (
        <input
          id={id}
          type="number"
          step={step === 1 ? 1 : 'any'}
          {...rules.bounds('DeployRequest', field)}
          aria-describedby={describedBy}
          aria-invalid={!!errors[field]}
          value={form[key] as string}
          placeholder={placeholder}
          onChange={event => update({ [key]: event.target.value })}
        />
      )}
    </Field>
  );
  const check = (label: string, key: keyof IDeployForm) => (
    <label className="jp-ModelHub-check">
      <input type="checkbox" checked={form[key] as boolean} onChange={event => update({ [key]: event.target.checked })} />{' '}
      {label}
    </label>
  );
  const container = form.target !== 'process';
  return (
    <fieldset className="jp-ModelHub-fieldset" aria-label={`Options for ${form.target}`}>
      <legend>Options for {form.target}</legend>
      {number('Instances', 'instances', 'instances', 'server default (1)')}
      {form.target === 'process' && text('Environment', 'environment', 'environment', "the server's Python")}
      {container && number('CPU cores', 'cpu', 'cpu', 'no limit', 0.5)}
      {container && text('Memory', 'memory', 'memory', 'no limit, e.g. 512M or 2Gi')}
      {container && text('Image', 'image', 'image', "built from the model's package")}
      {form.target === 'kubernetes' && number('Max instances (autoscaler)', 'max_instances', 'maxInstances', 'no autoscaler')}
      {form.target === 'kubernetes' && text('Namespace', 'namespace', 'namespace', 'default')}
      {form.target === 'kubernetes' && text('Kube context', 'kube_context', 'kubeContext', 'manifests only, not applied')}
      {container && check(form.target === 'docker' ? 'GPUs (all the engine has)' : 'One GPU (nvidia.com/gpu)', 'gpu')}
      {form.target === 'kubernetes' && check('As a KServe InferenceService', 'kserve')}
      {props.flavor === 'sklearn' && check('Optimize: serve the ONNX form when its equivalence proof passes', 'optimize')}
      {props.newEndpoint && (
        <Field label="Authentication (new endpoint)">
          {(id, describedBy) => (
            <select
              id={id}
              aria-describedby={describedBy}
              value={form.auth}
              onChange={event => update({ auth: event.target.value as 'key' | 'none' })}
            >
              <option value="key">key (requests need the endpoint's key)</option>
              <option value="none">none (anyone on this machine)</option>
            </select>
          )}
        </Field>
      )}
    </fieldset>
  );
}

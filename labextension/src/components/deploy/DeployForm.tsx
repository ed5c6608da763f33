/**
 * The deploy form: which endpoint (an existing one or a new name), the
 * deployment's name, the model version, the target with its options, and the
 * new deployment's share of live traffic, checked as the user types with the
 * server's rules. Deploying over a deployment in service asks first, naming
 * what is replaced. The dialog stays open until the server accepted the
 * deploy; a refusal is shown here with the input kept.
 */
import * as React from 'react';

import type { IEndpoint, IVersion } from '../../api';
import { Field, FormFooter, IFormHandle } from '../../dialogs';
import { messageOf } from '../../errors';
import { FieldErrors, ServerRules } from '../../rules';
import {
  defaultDeploymentName,
  defaultTraffic,
  deployRequest,
  IDeployForm,
  replacement,
  Target,
  trafficAfter,
  trafficText
} from './plan';
import { TargetOptions } from './TargetOptions';

const NEW_ENDPOINT = '';

/** How the form's fields are named in its messages. */
export const FIELD_LABELS: { [field: string]: string } = {
  deployment: 'Deployment name',
  traffic: 'Live traffic',
  model: 'Model version',
  instances: 'Instances',
  environment: 'Environment',
  cpu: 'CPU cores',
  memory: 'Memory',
  image: 'Image',
  max_instances: 'Max instances',
  namespace: 'Namespace',
  kube_context: 'Kube context'
};

export interface IDeployFormProps {
  version: IVersion;
  /** The model's versions to choose from (the one asked for first if the list is not loaded). */
  versions: readonly IVersion[];
  endpoints: readonly IEndpoint[];
  rules: ServerRules;
  handle: IFormHandle;
  /** Send the deploy; resolves once the server accepted it, throws its refusal. */
  deploy: (endpoint: string, form: IDeployForm, existing: IEndpoint | undefined) => Promise<void>;
}

/** The endpoint this model already serves on, if any: a deploy there is a canary by default. */
function servingEndpoint(endpoints: readonly IEndpoint[], model: string): IEndpoint | undefined {
  return endpoints.find(e => e.deployments.some(d => d.model === model));
}

function initialForm(props: IDeployFormProps): IDeployForm {
  const serving = servingEndpoint(props.endpoints, props.version.name);
  const deployment = defaultDeploymentName(serving);
  return {
    endpoint: serving ? serving.name : `${props.version.name}-ep`.replace(/[^A-Za-z0-9_-]/g, '-'),
    deployment,
    model: props.version.ref,
    target: 'process',
    traffic: String(defaultTraffic(serving, deployment)),
    optimize: false,
    allowContractChange: false,
    instances: '',
    environment: '',
    auth: 'key',
    cpu: '',
    memory: '',
    gpu: false,
    image: '',
    maxInstances: '',
    kserve: false,
    namespace: '',
    kubeContext: ''
  };
}

export function DeployForm(props: IDeployFormProps): React.ReactElement {
  const { rules, handle } = props;
  const [form, setForm] = React.useState<IDeployForm>(() => initialForm(props));
  const [picked, setPicked] = React.useState<string>(() =>
    servingEndpoint(props.endpoints, props.version.name)?.name ?? NEW_ENDPOINT
  );
  const [trafficTouched, setTrafficTouched] = React.useState(false);
  const [step, setStep] = React.useState<'form' | 'confirm'>('form');
  const [busy, setBusy] = React.useState(false);
  const [serverError, setServerError] = React.useState<string | null>(null);
  const [, setRulesReady] = React.useState(rules.ready);
  React.useEffect(() => {
    void rules.load().then(setRulesReady);
  }, []);

  const name = (picked === NEW_ENDPOINT ? form.endpoint : picked).trim();
  const endpoint = props.endpoints.find(e => e.name === name);
  const version = props.versions.find(v => v.ref === form.model) ?? props.version;
  const replaces = replacement(endpoint, form.deployment.trim(), form.model);
  const alone = !endpoint || endpoint.deployments.every(d => d.name === form.deployment.trim());
  const errors = problems(rules, form, endpoint, name, alone);
  const blocked = Object.keys(errors).length ? 'Correct the fields marked above to deploy.' : null;
  const percent = Number(form.traffic);
  const after =
    endpoint && !alone && !errors.traffic ? trafficText(trafficAfter(endpoint, form.deployment.trim(), percent)) : null;

  const update = (change: Partial<IDeployForm>) => {
    setServerError(null);
    setForm(current => ({ ...current, ...change }));
  };
  /** A new endpoint or deployment name brings its own defaults, unless the user set the traffic. */
  const retarget = (endpointName: string, deployment?: string) => {
    const target = props.endpoints.find(e => e.name === endpointName.trim());
    const next = deployment ?? defaultDeploymentName(target);
    update({
      deployment: next,
      ...(trafficTouched ? {} : { traffic: String(defaultTraffic(target, next.trim())) })
    });
  };

  const send = async () => {
    setBusy(true);
    setServerError(null);
    try {
      await props.deploy(name, form, endpoint);
      handle.close();
    } catch (error) {
      setServerError(inPanelWords(messageOf(error)));
      setStep('form');
      setBusy(false);
    }
  };
  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    if (busy || blocked) {
      return;
    }
    if (replaces && step === 'form') {
      setStep('confirm');
      return;
    }
    void send();
  };

  if (step === 'confirm') {
    return (
      <form className="jp-ModelHub-form jp-ModelHub-deployForm" aria-label="Confirm the deploy" onSubmit={submit}>
        <p className="jp-ModelHub-confirmText" role="alert">
          {replaces}.
        </p>
        <p className="jp-ModelHub-note">
          {endpoint?.name}/{form.deployment.trim()} restarts on {form.model}; requests it receives meanwhile are
          answered by the old version until the new one is ready.
        </p>
        <div className="jp-ModelHub-formFooter">
          <button type="button" className="jp-Dialog-button jp-mod-reject jp-mod-styled" onClick={() => setStep('form')}>
            <span className="jp-Dialog-buttonLabel">Back</span>
          </button>
          <button
            type="submit"
            className="jp-Dialog-button jp-mod-warn jp-mod-styled jp-ModelHub-submit"
            disabled={busy}
            aria-busy={busy ? true : undefined}
            autoFocus
          >
            <span className="jp-Dialog-buttonLabel">
              {busy ? 'Deploying…' : `Replace ${form.deployment.trim()}`}
            </span>
          </button>
        </div>
      </form>
    );
  }

  return (
    <form className="jp-ModelHub-form jp-ModelHub-deployForm" aria-label={`Deploy ${props.version.name}`} onSubmit={submit} noValidate>
      <Field label="Endpoint" error={picked === NEW_ENDPOINT ? null : errors.endpoint}>
        {(id, describedBy) => (
          <select
            id={id}
            aria-describedby={describedBy}
            value={picked}
            onChange={event => {
              setPicked(event.target.value);
              retarget(event.target.value === NEW_ENDPOINT ? form.endpoint : event.target.value);
            }}
          >
            {props.endpoints.map(e => (
              <option key={e.name} value={e.name}>
                {e.name} ({e.deployments.map(d => `${d.name}: ${d.ref}`).join(', ') || 'no deployments'})
              </option>
            ))}
            <option value={NEW_ENDPOINT}>New endpoint…</option>
          </select>
        )}
      </Field>
      {picked === NEW_ENDPOINT && (
        <Field
          label="New endpoint name"
          error={errors.endpoint}
          hint={endpoint ? `${endpoint.name} exists: this deploys to it.` : undefined}
        >
          {(id, describedBy) => (
            <input
              id={id}
              aria-describedby={describedBy}
              aria-invalid={!!errors.endpoint}
              value={form.endpoint}
              spellCheck={false}
              onChange={event => {
                update({ endpoint: event.target.value });
                retarget(event.target.value);
              }}
            />
          )}
        </Field>
      )}
      <Field
        label="Deployment name"
        error={errors.deployment}
        hint={replaces ? `${replaces}.` : endpoint ? 'A new deployment beside the live ones.' : undefined}
      >
        {(id, describedBy) => (
          <input
            id={id}
            aria-describedby={describedBy}
            aria-invalid={!!errors.deployment}
            value={form.deployment}
            spellCheck={false}
            onChange={event => {
              update({ deployment: event.target.value });
              retarget(name, event.target.value);
            }}
          />
        )}
      </Field>
      <Field label="Model version" error={errors.model}>
        {(id, describedBy) => (
          <select id={id} aria-describedby={describedBy} value={form.model} onChange={event => update({ model: event.target.value })}>
            {(props.versions.length ? props.versions : [props.version]).map(v => (
              <option key={v.ref} value={v.ref}>
                {v.ref} ({v.flavor}
                {v.aliases?.length ? `, ${v.aliases.map(a => `@${a}`).join(' ')}` : ''})
              </option>
            ))}
          </select>
        )}
      </Field>
      <Field
        label="Live traffic for this deployment (%)"
        error={errors.traffic}
        hint={
          alone
            ? 'The only deployment of its endpoint: it takes all the traffic.'
            : after
              ? `After the deploy: ${after}.${percent === 0 ? ' 0% is a canary: nothing live changes.' : ''}`
              : undefined
        }
      >
        {(id, describedBy) => (
          <input
            id={id}
            type="number"
            step={1}
            {...rules.bounds('DeployRequest', 'traffic')}
            aria-describedby={describedBy}
            aria-invalid={!!errors.traffic}
            disabled={alone}
            value={alone ? '100' : form.traffic}
            onChange={event => {
              setTrafficTouched(true);
              update({ traffic: event.target.value });
            }}
          />
        )}
      </Field>
      <Field label="Target">
        {(id, describedBy) => (
          <select
            id={id}
            aria-describedby={describedBy}
            value={form.target}
            onChange={event => update({ target: event.target.value as Target })}
          >
            <option value="process">process (a local process)</option>
            <option value="docker">docker (a container of the model's image)</option>
            <option value="kubernetes">kubernetes (manifests for a cluster)</option>
          </select>
        )}
      </Field>
      {endpoint && (
        <label className="jp-ModelHub-check">
          <input
            type="checkbox"
            checked={form.allowContractChange}
            onChange={event => update({ allowContractChange: event.target.checked })}
          />{' '}
          Deploy even if its inputs or outputs differ from what {endpoint.name} answers now
        </label>
      )}
      <TargetOptions form={form} errors={errors} rules={rules} update={update} flavor={version.flavor} newEndpoint={!endpoint} />
      <FormFooter
        error={serverError}
        busy={busy}
        blocked={blocked}
        submitLabel={replaces ? 'Deploy…' : 'Deploy'}
        busyLabel="Deploying…"
        onCancel={handle.cancel}
      />
    </form>
  );
}

/** The form's problems by field: the server's rules (from its OpenAPI document) and the traffic share. */
function problems(
  rules: ServerRules,
  form: IDeployForm,
  endpoint: IEndpoint | undefined,
  name: string,
  alone: boolean
): FieldErrors {
  const errors: FieldErrors = {};
  if (!name) {
    errors.endpoint = 'Endpoint name is needed.';
  } else {
    const refused = rules.checkParameter('/endpoints/{name}/deployments', 'post', 'name', name, 'Endpoint name');
    if (refused) {
      errors.endpoint = refused;
    }
  }
  if (!form.deployment.trim()) {
    errors.deployment = 'Deployment name is needed.';
  }
  const request = deployRequest(form, endpoint);
  // the share as typed is checked on its own: the split it leads to is worked out from it
  const percent = form.traffic.trim() === '' ? NaN : Number(form.traffic);
  delete request.traffic;
  const body = { ...request, ...(alone ? {} : { traffic: { share: percent } }) };
  for (const [field, message] of Object.entries(rules.check('DeployRequest', body, FIELD_LABELS))) {
    const key = field.startsWith('traffic') ? 'traffic' : field;
    if (!(key in errors)) {
      errors[key] = message;
    }
  }
  if (!alone && isNaN(percent) && !errors.traffic) {
    errors.traffic = 'Live traffic is needed: a whole number from 0 to 100.';
  }
  return errors;
}

/** The server's advice for the command line, as what to do in this form. */
function inPanelWords(message: string): string {
  return message.replace(
    /allow the change with --allow-contract-change \(REST: "allow_contract_change": true\)\./,
    'tick "Deploy even if its inputs or outputs differ" above.'
  );
}

/**
 * "Try it": a request body prefilled from the version's input example, sent
 * to the endpoint through the Jupyter server (which holds the key), with the
 * answer, its status, the latency and which deployment served it. A picker
 * chooses the deployment: the page's own by default (sent with the
 * `azureml-model-deployment` header, so a 0% canary answers), or "by traffic"
 * as a client without the header is served.
 */
import * as React from 'react';

import type { IDeployment } from '../../api';
import { Field } from '../../dialogs';
import { EndpointsModel } from './model';

export function TryIt(props: {
  endpoints: EndpointsModel;
  endpoint: string;
  deployment: IDeployment;
  /** The endpoint's deployments, for the picker. */
  deployments: readonly string[];
}): React.ReactElement {
  const { endpoints, endpoint, deployment } = props;
  const [target, setTarget] = React.useState(deployment.name);
  const example = deployment.input_example;
  const [text, setText] = React.useState(() =>
    JSON.stringify(example !== null && example !== undefined ? { data: example } : { data: [] }, null, 1)
  );
  const [parseError, setParseError] = React.useState<string | null>(null);
  const state = endpoints.tryState(endpoint);
  const send = () => {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      setParseError(`The request is not JSON: ${(error as Error).message}`);
      return;
    }
    setParseError(null);
    void endpoints.tryIt(endpoint, body, target || undefined);
  };
  return (
    <section className="jp-ModelHub-detailSection jp-ModelHub-tryIt" aria-label="Try it">
      <h2>Try it</h2>
      <label className="jp-ModelHub-label jp-ModelHub-block">
        <span className="jp-ModelHub-labelText">Request body (POST /score)</span>
        <textarea
          className="jp-ModelHub-code jp-ModelHub-tryBody"
          aria-label={`Request body for ${endpoint}`}
          spellCheck={false}
          rows={6}
          value={text}
          onChange={event => setText(event.target.value)}
          onKeyDown={event => {
            if (event.key === 'Enter' && (event.ctrlKey || event.metaKey)) {
              event.preventDefault();
              send();
            }
          }}
        />
      </label>
      <Field label="Send to">
        {(id, describedBy) => (
          <select
            id={id}
            className="jp-ModelHub-tryTarget"
            aria-describedby={describedBy}
            value={target}
            onChange={event => setTarget(event.target.value)}
          >
            {props.deployments.map(name => (
              <option key={name} value={name}>
                deployment {name}
                {name === deployment.name ? ' (this page)' : ''}
              </option>
            ))}
            <option value="">by traffic (as a client without the header)</option>
          </select>
        )}
      </Field>
      <button
        type="button"
        className="jp-ModelHub-send jp-Button jp-mod-styled jp-mod-accept"
        aria-label={`Send the request to ${endpoint}`}
        title="Send (Ctrl+Enter)"
        aria-busy={state?.busy ? true : undefined}
        disabled={state?.busy}
        onClick={send}
      >
        {state?.busy ? 'Sending…' : 'Send'}
      </button>
      {(parseError || state?.error) && (
        <div className="jp-ModelHub-error" role="alert">
          {parseError ?? state?.error}
        </div>
      )}
      {state?.result && !parseError && (
        <div className="jp-ModelHub-tryResult" role="status" aria-label="Answer">
          <div className="jp-ModelHub-tryMeta">
            <span className={`jp-ModelHub-httpStatus jp-mod-${state.result.status < 400 ? 'ok' : 'refused'}`}>
              HTTP {state.result.status}
            </span>
            <span className="jp-ModelHub-latency">{state.result.latency_ms.toFixed(1)} ms</span>
            {state.result.deployment && <span>served by {state.result.deployment}</span>}
          </div>
          <pre className="jp-ModelHub-code jp-ModelHub-tryAnswer">
            {JSON.stringify(state.result.answer, null, 1)}
          </pre>
        </div>
      )}
    </section>
  );
}

/**
 * Traffic percentages per deployment and the mirror, edited and sent as one
 * change. The server validates as it does for `%traffic` (the shares add up to
 * 100, a mirror goes to a deployment without live traffic, at most 50%); its
 * refusal is shown as is and nothing changes.
 */
import * as React from 'react';

import type { IEndpoint, ITrafficRequest } from '../../api';
import { TableHead } from '../shared';
import { EndpointsModel } from './model';

export function TrafficEditor(props: {
  endpoints: EndpointsModel;
  endpoint: IEndpoint;
}): React.ReactElement {
  const { endpoints, endpoint } = props;
  const current = JSON.stringify([endpoint.traffic, endpoint.mirror]);
  const initial = () => ({
    traffic: Object.fromEntries(
      endpoint.deployments.map(d => [d.name, String(endpoint.traffic[d.name] ?? 0)])
    ),
    mirror: String((endpoint.mirror as { deployment?: string }).deployment ?? ''),
    percent: String((endpoint.mirror as { percent?: number }).percent ?? '')
  });
  const [form, setForm] = React.useState(initial);
  // What the server has now replaces the form when it changes (after a save, or elsewhere).
  React.useEffect(() => setForm(initial()), [current]);
  const change = endpoints.changeState(endpoint.name);
  const total = Object.values(form.traffic).reduce((sum, v) => sum + (Number(v) || 0), 0);
  const badShare = Object.values(form.traffic).some(v => !/^\d+$/.test(v.trim()) || Number(v) > 100);
  // said here as it is typed; the server checks the same when saved (as for %traffic)
  const problem = badShare
    ? 'Each share is a whole number from 0 to 100.'
    : total !== 100
      ? `The shares add up to ${total}%, not 100%.`
      : null;

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    const request: ITrafficRequest = {
      traffic: Object.fromEntries(Object.entries(form.traffic).map(([k, v]) => [k, Number(v)]))
    };
    request.mirror = form.mirror
      ? { deployment: form.mirror, percent: Number(form.percent) }
      : {};
    void endpoints.setTraffic(endpoint.name, request);
  };

  return (
    <form className="jp-ModelHub-traffic-editor" aria-label={`Traffic of ${endpoint.name}`} onSubmit={submit}>
      <table className="jp-ModelHub-table">
        <TableHead columns={['deployment', 'live traffic (%)']} />
        <tbody>
          {endpoint.deployments.map(d => (
            <tr key={d.name}>
              <th scope="row">{d.name}</th>
              <td>
                <input
                  type="number"
                  min={0}
                  max={100}
                  step={1}
                  className="jp-ModelHub-percent"
                  aria-label={`Live traffic to ${d.name} (percent)`}
                  value={form.traffic[d.name] ?? '0'}
                  onChange={event =>
                    setForm({ ...form, traffic: { ...form.traffic, [d.name]: event.target.value } })
                  }
                />
              </td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr className={'jp-ModelHub-trafficTotal' + (total !== 100 ? ' jp-mod-invalid' : '')}>
            <th scope="row">total</th>
            <td aria-live="polite">{total}%</td>
          </tr>
        </tfoot>
      </table>
      {problem && (
        <div className="jp-ModelHub-fieldError jp-ModelHub-trafficProblem" role="status">
          {problem}
        </div>
      )}
      <div className="jp-ModelHub-row">
        <label className="jp-ModelHub-label">
          <span className="jp-ModelHub-labelText">Mirror to</span>
          <select
            aria-label="Mirror to deployment"
            value={form.mirror}
            onChange={event => setForm({ ...form, mirror: event.target.value })}
          >
            <option value="">no mirror</option>
            {endpoint.deployments.map(d => (
              <option key={d.name} value={d.name}>
                {d.name}
              </option>
            ))}
          </select>
        </label>
        <label className="jp-ModelHub-label">
          <span className="jp-ModelHub-labelText">Mirror %</span>
          <input
            type="number"
            min={1}
            max={50}
            step={1}
            className="jp-ModelHub-percent"
            aria-label="Mirrored share (percent)"
            disabled={!form.mirror}
            value={form.percent}
            onChange={event => setForm({ ...form, percent: event.target.value })}
          />
        </label>
        <button
          type="submit"
          className="jp-ModelHub-saveTraffic jp-Button jp-mod-styled jp-mod-accept"
          aria-label={`Save the traffic of ${endpoint.name}`}
          disabled={change?.busy || problem !== null}
        >
          Save traffic
        </button>
      </div>
      {(change?.error || change?.message) && (
        <div
          className={change.error ? 'jp-ModelHub-error jp-ModelHub-trafficError' : 'jp-ModelHub-success'}
          role={change.error ? 'alert' : 'status'}
        >
          <span className="jp-ModelHub-actionText">{change.error ?? change.message}</span>
          <button
            type="button"
            className="jp-ModelHub-dismiss"
            aria-label={`Dismiss the message about ${endpoint.name}`}
            title="Dismiss"
            onClick={() => endpoints.dismissChange(endpoint.name)}
          >
            ×
          </button>
        </div>
      )}
    </form>
  );
}

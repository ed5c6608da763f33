/**
 * A version's lineage as a small graph (issue 23: "lineage as a small
 * graph"): where it came from (the notebook, the version it was derived
 * from), the version itself, and what came of it (versions derived from it,
 * the deployments and images that serve it), left to right with arrows.
 * Each node opens what it names; the facts list below it keeps the words.
 */
import * as React from 'react';

export interface ILineageNode {
  /** What the node shows, e.g. "churn:2" or "churn-ep / blue". */
  label: string;
  /** What kind of thing it is, shown small above the label. */
  kind: string;
  /** Opens it; none for the version itself and for things with no page. */
  open?: () => void;
}

export interface ILineage {
  before: ILineageNode[];
  self: ILineageNode;
  after: ILineageNode[];
}

function Node(props: { node: ILineageNode; current?: boolean }): React.ReactElement {
  const { node, current } = props;
  const body = (
    <>
      <span className="jp-ModelHub-lineageKind">{node.kind}</span>
      <span className="jp-ModelHub-lineageLabel">{node.label}</span>
    </>
  );
  const className = `jp-ModelHub-lineageNode${current ? ' jp-mod-current' : ''}`;
  return node.open ? (
    <button type="button" className={className} onClick={node.open} aria-label={`${node.kind} ${node.label}`}>
      {body}
    </button>
  ) : (
    <span className={className} aria-current={current ? 'page' : undefined}>
      {body}
    </span>
  );
}

function Column(props: { nodes: ILineageNode[]; empty: string }): React.ReactElement {
  return (
    <div className="jp-ModelHub-lineageColumn">
      {props.nodes.length ? (
        props.nodes.map(node => <Node key={`${node.kind}:${node.label}`} node={node} />)
      ) : (
        <span className="jp-ModelHub-lineageEmpty">{props.empty}</span>
      )}
    </div>
  );
}

export function LineageGraph(props: { lineage: ILineage }): React.ReactElement {
  const { before, self, after } = props.lineage;
  return (
    <div className="jp-ModelHub-lineageGraph" role="group" aria-label={`Lineage of ${self.label}`}>
      <Column nodes={before} empty="registered from files" />
      <span className="jp-ModelHub-lineageArrow" aria-hidden="true">
        →
      </span>
      <div className="jp-ModelHub-lineageColumn">
        <Node node={self} current />
      </div>
      <span className="jp-ModelHub-lineageArrow" aria-hidden="true">
        →
      </span>
      <Column nodes={after} empty="not derived, deployed or packaged yet" />
    </div>
  );
}

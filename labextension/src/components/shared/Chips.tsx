/** Alias and tag chips of a model or a version. */
import * as React from 'react';

import { tagLabels } from '../../format';

export function Chips(props: {
  tags: { [key: string]: string } | null;
  aliases?: { alias: string; label: string }[];
}): React.ReactElement | null {
  const tags = tagLabels(props.tags);
  const aliases = props.aliases ?? [];
  if (tags.length === 0 && aliases.length === 0) {
    return null;
  }
  return (
    <span className="jp-ModelHub-chips">
      {aliases.map(a => (
        <span key={`alias:${a.alias}`} className="jp-ModelHub-alias">
          {a.label}
        </span>
      ))}
      {tags.map(tag => (
        <span key={`tag:${tag}`} className="jp-ModelHub-tag" title={tag}>
          {tag}
        </span>
      ))}
    </span>
  );
}

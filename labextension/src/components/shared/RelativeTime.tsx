/** A time as "3 minutes ago" (the exact time on hover), recomputed on the panel's one clock. */
import * as React from 'react';

import { clock } from '../../clock';
import { absoluteTime, relativeTime } from '../../format';

export function RelativeTime(props: { iso: string; className?: string; prefix?: string }): React.ReactElement {
  const [now, setNow] = React.useState(clock.now);
  React.useEffect(() => {
    const release = clock.retain();
    const tick = (_: unknown, time: number) => setNow(time);
    clock.ticked.connect(tick);
    setNow(clock.now);
    return () => {
      clock.ticked.disconnect(tick);
      release();
    };
  }, []);
  return (
    <time className={props.className ?? 'jp-ModelHub-time'} dateTime={props.iso} title={absoluteTime(props.iso)}>
      {props.prefix ?? ''}
      {relativeTime(props.iso, Math.max(now, clock.now))}
    </time>
  );
}

/** Tag filter box, name search and flavor dropdown of the Models section. */
import * as React from 'react';

import { FLAVORS } from '../../api';
import { IQuery, ModelSort, ModelsModel } from './model';

/** Delay between the last keystroke and the request (ms). */
const TYPING_DELAY = 350;

export function QueryBar(props: { models: ModelsModel }): React.ReactElement {
  const { models } = props;
  const [filter, setFilter] = React.useState(models.query.filter);
  const [search, setSearch] = React.useState(models.query.search);
  const timer = React.useRef<ReturnType<typeof setTimeout> | null>(null);
  const errorId = 'jp-ModelHub-filter-error';

  const apply = React.useCallback(
    (query: Partial<IQuery>, delay: number) => {
      if (timer.current !== null) {
        clearTimeout(timer.current);
        timer.current = null;
      }
      if (delay <= 0) {
        void models.setQuery(query);
        return;
      }
      timer.current = setTimeout(() => {
        timer.current = null;
        void models.setQuery(query);
      }, delay);
    },
    [models]
  );

  React.useEffect(
    () => () => {
      if (timer.current !== null) {
        clearTimeout(timer.current);
      }
    },
    []
  );

  // Enter applies at once instead of waiting for the typing delay.
  const onKeyDown = (event: React.KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      apply({ filter, search }, 0);
    }
  };

  const queryError = models.queryError;
  return (
    <form
      className="jp-ModelHub-query"
      role="search"
      onSubmit={event => {
        event.preventDefault();
        apply({ filter, search }, 0);
      }}
    >
      <label className="jp-ModelHub-label">
        <span className="jp-ModelHub-labelText">Tags</span>
        <input
          type="text"
          className={'jp-ModelHub-filter' + (queryError ? ' jp-mod-invalid' : '')}
          aria-label="Filter by tags"
          aria-invalid={queryError ? true : undefined}
          aria-describedby={queryError ? errorId : undefined}
          placeholder="team=growth stage!=dev owner"
          spellCheck={false}
          autoComplete="off"
          value={filter}
          onKeyDown={onKeyDown}
          onChange={event => {
            setFilter(event.target.value);
            apply({ filter: event.target.value, search }, TYPING_DELAY);
          }}
        />
      </label>
      {queryError && (
        <div id={errorId} className="jp-ModelHub-error" role="alert">
          {queryError}
        </div>
      )}
      <div className="jp-ModelHub-row">
        <input
          type="search"
          className="jp-ModelHub-search"
          aria-label="Search model names"
          placeholder="Name contains"
          spellCheck={false}
          autoComplete="off"
          value={search}
          onKeyDown={onKeyDown}
          onChange={event => {
            setSearch(event.target.value);
            apply({ filter, search: event.target.value }, TYPING_DELAY);
          }}
        />
        <select
          className="jp-ModelHub-flavor"
          aria-label="Flavor"
          value={models.query.flavor}
          onChange={event => apply({ filter, search, flavor: event.target.value }, 0)}
        >
          <option value="">any flavor</option>
          {FLAVORS.map(flavor => (
            <option key={flavor} value={flavor}>
              {flavor}
            </option>
          ))}
        </select>
      </div>
      <div className="jp-ModelHub-row jp-ModelHub-listOptions">
        <label className="jp-ModelHub-label">
          <span className="jp-ModelHub-labelText">Sort</span>
          <select
            className="jp-ModelHub-sort"
            aria-label="Sort models"
            value={models.sort}
            onChange={event => models.setSort(event.target.value as ModelSort)}
          >
            <option value="updated">recently updated first</option>
            <option value="name">by name</option>
          </select>
        </label>
        <label className="jp-ModelHub-check">
          <input
            type="checkbox"
            className="jp-ModelHub-showArchived"
            checked={models.showArchived}
            onChange={event => models.setShowArchived(event.target.checked)}
          />{' '}
          Show archived
        </label>
      </div>
    </form>
  );
}

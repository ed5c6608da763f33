import { LabIcon } from '@jupyterlab/ui-components';

/** A box outline; `jp-icon3` makes it follow the theme's icon colour. */
const svgstr = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <path class="jp-icon3" fill="#616161" fill-rule="evenodd"
    d="M12 2 3 7v10l9 5 9-5V7l-9-5zm0 2.3 6.8 3.7L12 11.7 5.2 8 12 4.3zM5 9.7l6 3.3v6.6l-6-3.3V9.7zm8 9.9V13l6-3.3v6.6l-6 3.3z"/>
</svg>`;

export const modelHubIcon = new LabIcon({
  name: 'jupyter-modelhub:hub',
  svgstr
});

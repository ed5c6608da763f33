import './base.css';
import './activity.css';
import './detail.css';
import './forms.css';
import './governance.css';
import './monitoring.css';
import './pages.css';

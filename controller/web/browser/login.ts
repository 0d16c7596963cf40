import { browser, byId } from './dom.js';

// The login page's script: takes the one-time token out of the address bar, then posts it at once.
browser.history.replaceState(null, '', '/login');
byId('login').submit();

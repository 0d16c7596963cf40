// The login page's script: takes the one-time token out of the address bar, then posts it at once.
history.replaceState(null, '', '/login');
(document.getElementById('login') as HTMLFormElement | null)?.submit();

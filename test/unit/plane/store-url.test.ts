import { describe, expect, it } from 'vitest';
import { SQLITE_FILE, parseStoreUrl, toSqlitePlaceholders } from '../../../controller/plane/store/index.js';
import { codeOf } from '../../support/error-code.js';

describe('parseStoreUrl', () => {
  it('defaults to the SQLite file in the controller directory', () => {
    expect(parseStoreUrl(undefined, '/etc/xepa')).toEqual({ engine: 'sqlite', file: `/etc/xepa/${SQLITE_FILE}` });
    expect(parseStoreUrl('', '/etc/xepa')).toEqual({ engine: 'sqlite', file: `/etc/xepa/${SQLITE_FILE}` });
  });

  it('reads sqlite: paths, relative to the controller directory or absolute', () => {
    expect(parseStoreUrl('sqlite:fleet.db', '/etc/xepa')).toEqual({ engine: 'sqlite', file: '/etc/xepa/fleet.db' });
    expect(parseStoreUrl('sqlite:///var/lib/xepa/fleet.db', '/etc/xepa')).toEqual({ engine: 'sqlite', file: '/var/lib/xepa/fleet.db' });
  });

  it('passes postgres and postgresql URLs to pg as they are, unix sockets included', () => {
    for (const url of ['postgres://xepa:pw@db:5432/xepa', 'postgresql:///xepa?host=/run/postgresql']) {
      expect(parseStoreUrl(url, '/x')).toEqual({ engine: 'postgres', connection: url });
    }
  });

  it('refuses any other scheme with ERR_CONFIG', () => {
    expect(codeOf(() => parseStoreUrl('mysql://db/xepa', '/x'))).toBe('ERR_CONFIG');
  });
});

describe('the SQL both engines share', () => {
  it("rewrites PostgreSQL's $N placeholders to SQLite's ?N, repeated ones included", () => {
    expect(toSqlitePlaceholders('UPDATE t SET a = $2 WHERE id = $1 AND (a = $2 OR b < $10)')).toBe('UPDATE t SET a = ?2 WHERE id = ?1 AND (a = ?2 OR b < ?10)');
  });
});

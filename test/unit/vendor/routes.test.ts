import { describe, expect, it } from 'vitest';
import { decideRange, parseVendorRoute, splitTarget } from '../../../controller/vendor/server/index.js';

const route = (target: string) => {
  const { path, query } = splitTarget(target);
  return parseVendorRoute(path, query);
};

describe('vendor routes', () => {
  it('parses the catalog, files by version or channel, iPXE per host and configs', () => {
    expect(route('/vendor/v1/catalog')).toEqual({ kind: 'catalog' });
    expect(route('/vendor/v1/catalog/talos')).toEqual({ kind: 'catalog', os: 'talos' });
    expect(route('/vendor/v1/files/talos/v1.8.0/vmlinuz-amd64')).toEqual({ kind: 'file', os: 'talos', ref: 'v1.8.0', file: 'vmlinuz-amd64' });
    expect(route('/vendor/v1/files/talos/stable/vmlinuz-amd64')).toMatchObject({ ref: 'stable' });
    expect(route('/vendor/v1/ipxe/talos/stable?host=node-1')).toEqual({ kind: 'ipxe', os: 'talos', ref: 'stable', host: 'node-1' });
    expect(route('/vendor/v1/config/flatcar/node-1/ignition.json')).toEqual({ kind: 'config', os: 'flatcar', host: 'node-1', name: 'ignition.json' });
    expect(route('http://ctl:8080/vendor/v1/catalog?x=1')).toEqual({ kind: 'catalog' });
  });

  it.each([
    ['/vendor/v1/files/talos/stable/..', 404],
    ['/vendor/v1/files/talos/../../../etc/passwd', 404],
    ['/vendor/v1/files/talos/stable/%2e%2e', 404],
    ['/vendor/v1/files/talos/%2e%2e/%2e%2e/passwd', 404],
    ['/vendor/v1/files/talos/stable/%252e%252e%252fpasswd', 404],
    ['/vendor/v1/files/talos/stable/..%2fpasswd', 400],
    ['/vendor/v1/files/talos/stable/%2Fetc%2Fpasswd', 400],
    ['/vendor/v1/files//etc/passwd', 404],
    ['/vendor/v1/files/talos/stable/..\\..\\passwd', 400],
    ['/vendor/v1/files/talos/stable/%5c..%5cpasswd', 400],
    ['/vendor/v1/files/talos/stable/x%00.iso', 400],
    ['/vendor/v1/files/talos/stable/%zz', 400],
    ['/vendor/v1/files/talos/stable/.hidden', 404],
    ['/vendor/v1/files/Talos/stable/x', 404],
    ['/vendor/v1/ipxe/talos/stable?host=../../x', 400],
    ['/vendor/v1/ipxe/talos/stable?host=a%0akernel%20evil', 400],
    ['/vendor/v1/config/flatcar/../ignition.json', 404],
    ['/vendor/v1/files/talos/stable/a/b', 404],
  ])('refuses %s with %i', (target, status) => {
    expect(route(target)).toMatchObject({ kind: 'bad', status });
  });
});

describe('Range decisions', () => {
  it('serves one range, open-ended and suffix ranges, clamping the end to the file', () => {
    expect(decideRange('bytes=0-99', 1000)).toEqual({ kind: 'partial', start: 0, end: 99 });
    expect(decideRange('bytes=900-', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(decideRange('bytes=-100', 1000)).toEqual({ kind: 'partial', start: 900, end: 999 });
    expect(decideRange('bytes=-5000', 1000)).toEqual({ kind: 'partial', start: 0, end: 999 });
    expect(decideRange('bytes=10-99999999999999999999', 1000)).toEqual({ kind: 'partial', start: 10, end: 999 });
  });

  it('answers a start past the end and a zero suffix with 416', () => {
    expect(decideRange('bytes=1000-', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=99999999999999999999-', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=-0', 1000)).toEqual({ kind: 'unsatisfiable' });
    expect(decideRange('bytes=0-', 0)).toEqual({ kind: 'unsatisfiable' });
  });

  it('sends the whole file for several or overlapping ranges, other units and malformed headers', () => {
    expect(decideRange('bytes=0-1,5-6', 1000)).toEqual({ kind: 'full' });
    expect(decideRange(`bytes=${Array.from({ length: 500 }, () => '0-999').join(',')}`, 1000)).toEqual({ kind: 'full' });
    expect(decideRange('items=0-1', 1000)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=5-1', 1000)).toEqual({ kind: 'full' });
    expect(decideRange('bytes=abc', 1000)).toEqual({ kind: 'full' });
    expect(decideRange(undefined, 1000)).toEqual({ kind: 'full' });
  });
});

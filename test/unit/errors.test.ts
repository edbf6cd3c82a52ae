import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, PlrustError, usageError } from '../../src/util/errors.js';

test('error codes are a closed set: a misspelt code does not compile', () => {
  // If `code` were widened back to string, this directive would be unused and `tsc` would fail.
  // @ts-expect-error 'FILE_NOT_FOUD' is not an ErrorCode
  const typo = new PlrustError({ code: 'FILE_NOT_FOUD', message: 'x' });
  assert.equal(typo.code, 'FILE_NOT_FOUD', 'at run time the code is carried as given');
  // @ts-expect-error the same holds for usage errors
  assert.equal(usageError('BAD_TARGT', 'x').exitCode, ExitCode.Usage);
  assert.equal(new PlrustError({ code: 'FILE_NOT_FOUND', message: 'x' }).exitCode, ExitCode.Failed);
});

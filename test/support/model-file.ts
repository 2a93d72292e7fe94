/** The shipped model, trained once per test run by the global setup and loaded by every test file. */
export const TEST_MODEL_FILE = 'dist/model/test-run.model';

import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { EngineError } from './errors.js';
import { deserializeModel, EngineClassifier, type LoadOptions } from './model.js';

/** Loads model bytes into a classifier; throws EngineError (MODEL_CORRUPT / MODEL_FORMAT / MODEL_STALE). */
export function loadModel(bytes: Buffer | Uint8Array, options: LoadOptions = {}): EngineClassifier {
  const { header, space, linear, neighbours, counts } = deserializeModel(bytes, options);
  const digest = createHash('sha256').update(bytes).digest('hex');
  return new EngineClassifier(space, linear, header, digest, neighbours, header.formatVersion, counts);
}

/** Reads and loads a model file; a missing file is MODEL_NOT_FOUND, other failures name the file. */
export async function loadModelFile(file: string, options: LoadOptions = {}): Promise<EngineClassifier> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    throw new EngineError('MODEL_NOT_FOUND', `cannot read model file ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return loadModel(bytes, options);
  } catch (error) {
    if (error instanceof EngineError) throw new EngineError(error.code, `${file}: ${error.message.slice(error.code.length + 2)}`);
    throw error;
  }
}

/**
 * "Register as model" from the file browser: read a model file (.onnx,
 * .joblib, .pkl) or a folder from the server's root through the Contents API,
 * pack it as the tar `POST uploads` takes (a folder keeps its name, as in
 * Azure ML), and register it as a new version. The registry detects the
 * flavor and refuses what it cannot take, in its own words.
 */
import type { Contents } from '@jupyterlab/services';
import { createTar } from 'nanotar';

import type { IModelHubClient, IVersion } from './api';

/** The file types offered "Register as model" (folders too). */
export const MODEL_FILE_SUFFIXES = ['.onnx', '.joblib', '.pkl'];

/** A tar header holds 100 characters of a name. */
const MAX_TAR_NAME = 100;

export function isRegistrable(item: Contents.IModel): boolean {
  return item.type === 'directory' || MODEL_FILE_SUFFIXES.some(s => item.name.toLowerCase().endsWith(s));
}

/** A model name from a file name: "churn_model.joblib" -> "churn_model". */
export function suggestedName(path: string): string {
  const base = path.split('/').pop() ?? path;
  const stem = base.replace(/\.(onnx|joblib|pkl)$/i, '');
  return stem.replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '') || 'model';
}

/** Read `path` (a file or a folder, recursively) as tar entries named from its own name down. */
export async function readFiles(
  contents: Contents.IManager,
  path: string
): Promise<{ name: string; data: Uint8Array }[]> {
  const item = await contents.get(path, { content: false });
  const root = path.includes('/') ? path.slice(0, path.lastIndexOf('/') + 1) : '';
  const files: { name: string; data: Uint8Array }[] = [];
  const visit = async (entry: Contents.IModel): Promise<void> => {
    if (entry.type === 'directory') {
      const listing = await contents.get(entry.path, { content: true });
      for (const child of listing.content as Contents.IModel[]) {
        await visit(child);
      }
      return;
    }
    const name = entry.path.slice(root.length);
    if (name.length > MAX_TAR_NAME) {
      throw new Error(`The path ${name} is longer than ${MAX_TAR_NAME} characters; register it from a notebook.`);
    }
    const file = await contents.get(entry.path, { content: true, format: 'base64', type: 'file' });
    files.push({ name, data: base64Bytes(file.content as string) });
  };
  await visit(item);
  if (files.length === 0) {
    throw new Error(`${path} holds no files to register.`);
  }
  return files;
}

/** Upload the files and register them as a new version of `name`. */
export async function registerFiles(
  client: Pick<IModelHubClient, 'upload' | 'register'>,
  name: string,
  files: { name: string; data: Uint8Array }[],
  description: string
): Promise<IVersion> {
  const upload = await client.upload(createTar(files));
  return client.register(name, { upload_id: upload.upload_id, description });
}

function base64Bytes(text: string): Uint8Array {
  const binary = atob(text.replace(/\s/g, ''));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

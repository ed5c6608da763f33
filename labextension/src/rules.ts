/**
 * The server's rules for a request body, checked in the browser as the user
 * types: the bounds, patterns and lengths of the OpenAPI document the server
 * serves (`openapi.json`, made from the same pydantic models it validates
 * with), so a form refuses what the server would refuse, in the same terms,
 * before anything is sent.
 *
 * Ajv does the validating (JSON Schema 2020-12, the dialect of OpenAPI 3.1);
 * this module only turns its findings into plain words per field.
 *
 * Not here: rules the document cannot say (traffic adding up to 100, names in
 * use); the forms say those, and the server still has the last word.
 */
import Ajv2020, { ErrorObject, ValidateFunction } from 'ajv/dist/2020';

/** Plain-words problems of a request, by field path ("traffic.green", "cpu"); '' for the whole body. */
export type FieldErrors = { [field: string]: string };

/** What the rules need from the API client. */
export interface IRulesClient {
  openapi(): Promise<unknown>;
}

const DOCUMENT_ID = 'modelhub-openapi';

/** The little of an OpenAPI document read here besides its schemas. */
interface IBounded {
  anyOf?: IBounded[];
  patternProperties?: { [pattern: string]: IBounded };
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
}

interface IDocument {
  components?: {
    schemas?: { [name: string]: { properties?: { [field: string]: IBounded } } };
  };
  paths?: {
    [path: string]: { [method: string]: { parameters?: { name: string; schema?: object }[] } };
  };
}

/**
 * The rules of the server's request schemas (`DeployRequest`, `ConvertRequest`, ...).
 * The document is fetched once, on first use; until it has arrived nothing is refused here.
 */
export class ServerRules {
  constructor(client: IRulesClient) {
    this._client = client;
  }

  /** Fetch the document (once); resolves true when the rules can be checked. */
  load(): Promise<boolean> {
    if (!this._loading) {
      this._loading = this._client.openapi().then(
        document => {
          this._document = document as IDocument;
          this._ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
          this._ajv.addSchema(document as object, DOCUMENT_ID);
          return true;
        },
        () => {
          this._loading = null; // try again next time a form opens
          return false;
        }
      );
    }
    return this._loading;
  }

  get ready(): boolean {
    return this._ajv !== null;
  }

  /**
   * The problems of `body` as request `schema`, one per field, in plain words;
   * `labels` names the fields as the form does ("Traffic", "CPU cores").
   */
  check(schema: string, body: unknown, labels: { [field: string]: string } = {}): FieldErrors {
    const validate = this._validator(schema);
    if (!validate || validate(body)) {
      return {};
    }
    const found: FieldErrors = {};
    for (const error of validate.errors ?? []) {
      const field = fieldOf(error);
      if (error.keyword === 'anyOf' || (error.keyword === 'type' && error.params.type === 'null')) {
        continue; // "or null": the other branch says what is wrong
      }
      if (!(field in found)) {
        found[field] = plainWords(error, labels[field] ?? labels[field.split('.')[0]] ?? labelOf(field));
      }
    }
    return found;
  }

  /**
   * The problem of a path parameter's `value` (an endpoint's name in
   * `/endpoints/{name}/deployments`), in plain words; null when it is fine.
   */
  checkParameter(path: string, method: string, name: string, value: string, label: string): string | null {
    const key = `${method} ${path} ${name}`;
    let validate = this._validators.get(key);
    if (!validate) {
      const parameter = this._document?.paths?.[path]?.[method]?.parameters?.find(p => p.name === name);
      if (!this._ajv || !parameter?.schema) {
        return null;
      }
      validate = this._ajv.compile(parameter.schema);
      this._validators.set(key, validate);
    }
    if (validate(value)) {
      return null;
    }
    const error = (validate.errors ?? [])[0];
    return error ? plainWords(error, label) : null;
  }

  /**
   * The numeric bounds of a field of request `schema` (for an input's min and
   * max): `minimum`/`maximum` wherever the field's schema says them, an
   * exclusive bound as the nearest allowed step is not known, as is.
   */
  bounds(schema: string, field: string): { min?: number; max?: number } {
    const property = this._document?.components?.schemas?.[schema]?.properties?.[field];
    if (!property) {
      return {};
    }
    const found: { min?: number; max?: number } = {};
    // the field itself, its "or null" branches, and for a map (traffic) its values
    const parts: IBounded[] = [property];
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      parts.push(...(part.anyOf ?? []), ...Object.values(part.patternProperties ?? {}));
      const min = part.minimum ?? part.exclusiveMinimum;
      const max = part.maximum ?? part.exclusiveMaximum;
      if (typeof min === 'number') {
        found.min = min;
      }
      if (typeof max === 'number') {
        found.max = max;
      }
    }
    return found;
  }

  private _validator(schema: string): ValidateFunction | null {
    if (!this._ajv) {
      return null;
    }
    let validate = this._validators.get(schema);
    if (!validate) {
      validate = this._ajv.compile({ $ref: `${DOCUMENT_ID}#/components/schemas/${schema}` });
      this._validators.set(schema, validate);
    }
    return validate;
  }

  private _client: IRulesClient;
  private _document: IDocument | null = null;
  private _ajv: Ajv2020 | null = null;
  private _loading: Promise<boolean> | null = null;
  private _validators = new Map<string, ValidateFunction>();
}

/** "/traffic/green" -> "traffic.green"; a missing property names itself. */
function fieldOf(error: ErrorObject): string {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map(part => part.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') {
    path.push(String(error.params.missingProperty));
  } else if (error.keyword === 'additionalProperties') {
    path.push(String(error.params.additionalProperty));
  }
  return path.join('.');
}

/** "max_batch_size" -> "Max batch size" */
function labelOf(field: string): string {
  const last = field.split('.').pop() ?? field;
  const words = last.replace(/_/g, ' ');
  return words ? words[0].toUpperCase() + words.slice(1) : 'The request';
}

/** One finding of Ajv as a sentence a user reads: "Traffic must be at most 100." */
export function plainWords(error: ErrorObject, label: string): string {
  const p = error.params as { [key: string]: unknown };
  switch (error.keyword) {
    case 'maximum':
      return `${label} must be at most ${p.limit}.`;
    case 'minimum':
      return `${label} must be at least ${p.limit}.`;
    case 'exclusiveMaximum':
      return `${label} must be less than ${p.limit}.`;
    case 'exclusiveMinimum':
      return `${label} must be more than ${p.limit}.`;
    case 'maxLength':
      return `${label} is too long: at most ${p.limit} characters.`;
    case 'minLength':
      return p.limit === 1 ? `${label} is needed.` : `${label} needs at least ${p.limit} characters.`;
    case 'pattern':
      return patternWords(label, String(p.pattern));
    case 'type':
      return p.type === 'integer' ? `${label} must be a whole number.` : `${label} must be a ${p.type}.`;
    case 'enum':
      return `${label} must be one of: ${(p.allowedValues as unknown[]).join(', ')}.`;
    case 'required':
      return `${label} is needed.`;
    case 'additionalProperties':
      return `${label} is not something this request takes.`;
    default:
      return `${label} is not valid here.`;
  }
}

/** The patterns the server uses, said in words; any other one is quoted. */
function patternWords(label: string, pattern: string): string {
  if (pattern.startsWith('^[A-Za-z][A-Za-z0-9_-]')) {
    return `${label} must start with a letter and hold only letters, digits, - and _.`;
  }
  if (pattern.startsWith('^(everyone|')) {
    return `${label} must be user:NAME, group:NAME or everyone, a name of letters, digits and . _ @ + -.`;
  }
  if (pattern.includes('\\u0000')) {
    return `${label} cannot contain a NUL character.`;
  }
  return `${label} does not have the expected form (${pattern}).`;
}

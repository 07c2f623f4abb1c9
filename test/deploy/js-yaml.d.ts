/** The part of js-yaml (a devDependency; its types are not installed) that the deploy tests use. */
declare module 'js-yaml' {
  export function load(text: string): unknown;
}

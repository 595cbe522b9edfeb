/** Purpose rules: allowed purpose codes, forbidden categories, list types. See docs/audit.md. */
export * from './purpose.js';

/**
 * File system paths at the start of a message or after a space, quote, bracket or `=`: not the path
 * of a URL (`http://host:8000/v1`), which follows its host.
 */
const POSIX_PATH = /(^|[\s'"`(=[])(~?\/[^\s'"`),\]]+)/g;
const WINDOWS_PATH = /(^|[\s'"`(=[])([A-Za-z]:\\[^\s'"`),\]]+)/g;

/**
 * A message with local file paths replaced by `<path>`, for reports that leave the machine: a path
 * tells the user name, the folder layout, where models and documents live.
 */
export function redactPaths(message: string): string {
  return message.replace(POSIX_PATH, '$1<path>').replace(WINDOWS_PATH, '$1<path>');
}

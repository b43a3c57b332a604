/** Demo data and behaviour shared by the routes (the same in every framework's demo). */
export interface User {
  id: number;
  name: string;
}
const USERS: User[] = Array.from({ length: 20 }, (_, i) => ({ id: i + 1, name: `user-${i + 1}` }));

export function listUsers(): User[] {
  return USERS;
}
export function findUser(id: string): User | undefined {
  return USERS.find((u) => String(u.id) === id);
}
export function searchUsers(q: string): User[] {
  return USERS.filter((u) => u.name.includes(q));
}
export function listRepos(org: string): Array<{ org: string; repo: string }> {
  return ['api', 'web', 'infra'].map((repo) => ({ org, repo }));
}
/** The slow route takes 200-800 ms. */
export function pause(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 600));
}
/** The flaky route fails about one time in five (FLAKY_RATE overrides). */
export function shouldFail(): boolean {
  return Math.random() < Number(process.env.FLAKY_RATE ?? 0.2);
}

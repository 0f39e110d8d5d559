/** "Evi", "van den", "Berg" -> "Evi van den Berg": the Dutch way, tussenvoegsel in the middle. */
export function fullName(p: { firstName: string; infix?: string | null; lastName: string }): string {
  return [p.firstName, p.infix, p.lastName].filter((x) => x && x.trim() !== '').join(' ');
}

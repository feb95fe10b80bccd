// Placeholder until the rpm database readers land: reports that no rpm database is present,
// so the inventory registry can already list the rpm format.
import type { InventoryReader } from '../reader.ts';
import { InventoryError } from '../reader.ts';

export const rpmReader: InventoryReader = {
  format: 'rpm',
  async detect(_root: string): Promise<string | null> {
    return null;
  },
  async read(_root: string, dbPath: string) {
    throw new InventoryError(dbPath, 'rpm databases are not supported yet');
  },
};

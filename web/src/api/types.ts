// Response shapes of the server's API, taken from the server's own zod schemas (types only:
// nothing of the server ends up in the bundle), so a change there shows up here as a type error.
import type { z } from 'zod';
import type * as S from '../../../src/server/api/schemas.ts';
import type * as R from '../../../src/server/api/remediation-schemas.ts';
import type * as P from '../../../src/server/patching/schemas.ts';
import type * as F from '../../../src/server/routes/facets.ts';
import type * as A from '../../../src/server/repo/agent-versions.ts';
import type * as U from '../../../src/server/api/people-schemas.ts';
import type { Severity } from '../../../src/core/types.ts';

export type { Severity };
export type SeverityCounts = Record<Severity, number> & { total: number };
export type Page<T> = { total: number; total_exact: boolean; page: number; per_page: number; items: T[] };

// People (src/server/api/people-schemas.ts): who is logged in, accounts, API tokens, the audit log.
export type Session = z.infer<typeof U.SessionInfoSchema>;
export type Role = Session['role'];
export type User = z.infer<typeof U.UserSchema>;
export type ApiToken = z.infer<typeof U.ApiTokenSchema>;
export type AuthMethods = z.infer<typeof U.AuthMethodsSchema>;
export type AuditEntry = z.infer<typeof U.AuditEntrySchema>;
export type AuditPage = z.infer<typeof U.AuditPageSchema>;
export type Overview = z.infer<typeof S.OverviewSchema>;
export type Trends = z.infer<typeof S.TrendsSchema>;
export type HostSummary = z.infer<typeof S.HostSummarySchema>;
export type HostDetail = z.infer<typeof S.HostDetailSchema>;
export type Package = z.infer<typeof S.PackageSchema>;
export type Finding = z.infer<typeof S.FindingSchema>;
export type HostEvent = z.infer<typeof S.EventSchema>;
export type Scan = z.infer<typeof S.ScanSchema>;
export type HostHistory = { events: HostEvent[]; scans: Scan[] };
export type VulnSummary = z.infer<typeof S.VulnSummarySchema>;
export type VulnDetail = z.infer<typeof S.VulnDetailSchema>;
export type Remediation = z.infer<typeof R.RemediationSchema>;
export type HostRemediation = z.infer<typeof R.HostRemediationSchema>;
export type FeedStatus = z.infer<typeof S.FeedStatusSchema>;

// Patching (src/server/patching/schemas.ts) and host facets (src/server/routes/facets.ts).
export type PatchRun = z.infer<typeof P.PatchRunItemSchema>;
export type PatchOutcome = PatchRun['outcome'];
export type PatchRunSummary = z.infer<typeof P.PatchRunSummarySchema>;
export type RingView = z.infer<typeof P.RingViewSchema>;
export type LeaseView = z.infer<typeof P.LeaseViewSchema>;
export type HostPolicyView = z.infer<typeof P.HostPolicyViewSchema>;
export type StoredPolicy = z.infer<typeof P.StoredPolicySchema>;
export type PolicyListItem = z.infer<typeof P.PolicyListItemSchema>;
export type PolicyPreview = z.infer<typeof P.PolicyPreviewSchema>;
export type Gate = RingView['gate'];
export type HostFacets = z.infer<typeof F.HostFacetsSchema>;
// Agent versions against the newest one the server's repository publishes (src/server/repo).
export type AgentVersions = z.infer<typeof A.AgentVersionsSchema>;

/** Ownership claims and handovers. */
export { acceptHandover, cancelClaim, claimIdentity, confirmClaim, declineHandover, handOverIdentity, rejectClaim, CLAIM_AUDIT_ACTIONS, type ClaimDeps } from './claims.js'
export { currentClaimOwners, isIdentityOwner, ownerRefOf, type ClaimOwner } from './ownership.js'
export { getClaim, listClaimsOfIdentity, listClaimsOfUser, listMyIdentities, listPendingClaims, type ClaimRow, type MyIdentityRow } from './queries.js'

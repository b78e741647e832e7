import type { Queryable } from '../db/db.ts'
import { readEntity } from './entity-store.ts'
import type { MEMBER_ROLES } from './entity-types.ts'
import { EntityError, guarded, notFound } from './errors.ts'
import type { Row } from './page-query.ts'

type MemberRole = (typeof MEMBER_ROLES)[number]

/** The organizations the caller belongs to, with the caller's role in each. */
export async function listOrganizations(tx: Queryable): Promise<Row[]> {
  const { rows } = await guarded(() =>
    tx.query(`select o.id, o.name, o.slug, o.description, m.role, o.created_at
      from atoms.organizations o join atoms.organization_members m on m.organization_id = o.id and m.user_id = auth.uid()
      where o.deleted_at is null order by o.name, o.id`),
  )
  return rows
}

export interface WorkspaceContext {
  organization: Row | null
  project: Row | null
}

export async function getContext(tx: Queryable): Promise<WorkspaceContext> {
  const { rows } = await guarded(() => tx.query('select organization_id, project_id from atoms.user_contexts where user_id = auth.uid()'))
  const saved = rows[0]
  // The saved ids are only shown while they are still visible: membership may have ended.
  const visible = async (type: 'organization' | 'project', id: unknown) => {
    if (!id) return null
    return readEntity(tx, type, String(id)).catch((error) => {
      if (error instanceof EntityError && error.kind === 'not_found') return null
      throw error
    })
  }
  return { organization: await visible('organization', saved?.organization_id), project: await visible('project', saved?.project_id) }
}

/** Sets the active organization and project; a project alone also sets its organization. */
export async function setContext(tx: Queryable, input: { organization_id?: string | null; project_id?: string | null }): Promise<WorkspaceContext> {
  let organizationId = input.organization_id ?? null
  const projectId = input.project_id ?? null
  if (projectId) {
    const project = await readEntity(tx, 'project', projectId)
    if (organizationId && project.organization_id !== organizationId) throw new EntityError('invalid', 'the project does not belong to that organization')
    organizationId = String(project.organization_id)
  } else if (organizationId) {
    await readEntity(tx, 'organization', organizationId)
  }
  await guarded(() =>
    tx.query(`insert into atoms.user_contexts (user_id, organization_id, project_id) values (auth.uid(), $1, $2)
      on conflict (user_id) do update set organization_id = excluded.organization_id, project_id = excluded.project_id, updated_at = now()`, [organizationId, projectId]),
  )
  return getContext(tx)
}

async function requireManager(tx: Queryable, organizationId: string): Promise<void> {
  await readEntity(tx, 'organization', organizationId)
  const { rows } = await guarded(() => tx.query('select atoms.member_role($1) as role', [organizationId]))
  const role = rows[0]?.role
  if (role !== 'owner' && role !== 'admin') throw new EntityError('forbidden', `only owners and admins manage members; your role is ${role}`)
}

const normalEmail = (email: string) => email.trim().toLowerCase()

/**
 * Adds someone to an organization. By email it invites: the invitee accepts (or declines),
 * and the answer is the same whether or not the address belongs to anyone, so managers learn
 * neither who is registered nor their user ids. By user_id it changes the role of an existing
 * member.
 */
export async function addMember(tx: Queryable, input: { organization_id: string; user_id?: string; email?: string; role: MemberRole }): Promise<Row> {
  await requireManager(tx, input.organization_id)
  const email = input.email
  if (email !== undefined) {
    const { rows } = await guarded(() =>
      tx.query(`insert into atoms.invitations (organization_id, email, role) values ($1, $2, $3)
        on conflict (organization_id, email) do update set role = excluded.role
        returning organization_id, email, role, created_at`, [input.organization_id, normalEmail(email), input.role]),
    )
    return { ...rows[0]!, invited: true }
  }
  const { rows } = await guarded(() =>
    tx.query('update atoms.organization_members set role = $3 where organization_id = $1 and user_id = $2 returning organization_id, user_id, role, created_at', [
      input.organization_id, input.user_id, input.role,
    ]),
  )
  if (!rows[0]) throw new EntityError('not_found', `user ${input.user_id} is not a member of this organization; invite them by email`)
  return rows[0]
}

/** Removes a member; by email it also withdraws an invitation to that address. */
export async function removeMember(tx: Queryable, input: { organization_id: string; user_id?: string; email?: string }): Promise<Row> {
  await requireManager(tx, input.organization_id)
  if (input.email !== undefined) {
    const email = normalEmail(input.email)
    const invitation = await guarded(() => tx.query('delete from atoms.invitations where organization_id = $1 and email = $2', [input.organization_id, email]))
    const { rows } = await guarded(() => tx.query('select atoms.member_with_email($1, $2) as id', [input.organization_id, email]))
    const member = rows[0]?.id ? await deleteMembership(tx, input.organization_id, String(rows[0].id)) : undefined
    if (!member && invitation.rowCount === 0) throw new EntityError('not_found', `no member or invitation with email ${email} in this organization`)
    return { organization_id: input.organization_id, email, removed: true, ...(member ? { role: member.role } : { invitation_withdrawn: true }) }
  }
  const member = await deleteMembership(tx, input.organization_id, input.user_id!)
  if (!member) throw notFound('member')
  return { ...member, removed: true }
}

async function deleteMembership(tx: Queryable, organizationId: string, userId: string): Promise<Row | undefined> {
  const { rows } = await guarded(() =>
    tx.query('delete from atoms.organization_members where organization_id = $1 and user_id = $2 returning organization_id, user_id, role', [organizationId, userId]),
  )
  return rows[0]
}

/** The invitations addressed to the caller's confirmed email. */
export async function listInvitations(tx: Queryable): Promise<Row[]> {
  const { rows } = await guarded(() =>
    tx.query('select organization_id, role, created_by as invited_by, created_at from atoms.invitations where email = atoms.caller_email() order by created_at, organization_id'),
  )
  return rows
}

export async function acceptInvitation(tx: Queryable, organizationId: string): Promise<Row> {
  const { rows } = await guarded(() => tx.query('select atoms.accept_invitation($1) as role', [organizationId]))
  return { organization_id: organizationId, role: rows[0]!.role, joined: true }
}

export async function declineInvitation(tx: Queryable, organizationId: string): Promise<Row> {
  const { rowCount } = await guarded(() =>
    tx.query('delete from atoms.invitations where organization_id = $1 and email = atoms.caller_email()', [organizationId]),
  )
  if (rowCount === 0) throw notFound('invitation')
  return { organization_id: organizationId, declined: true }
}

/** The saved context as defaults for new entities (see entity_tool create). */
export async function contextDefaults(tx: Queryable): Promise<{ organization_id: string | null; project_id: string | null }> {
  const { rows } = await guarded(() => tx.query('select organization_id, project_id from atoms.user_contexts where user_id = auth.uid()'))
  return { organization_id: (rows[0]?.organization_id as string) ?? null, project_id: (rows[0]?.project_id as string) ?? null }
}

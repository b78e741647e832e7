import { z } from 'zod'
import { asUser } from '../../db/as-user.ts'
import { EMAIL_MAX_LENGTH } from '../../embedded-auth/email.ts'
import { MEMBER_ROLES } from '../../entities/entity-types.ts'
import { acceptInvitation, addMember, declineInvitation, getContext, listInvitations, listOrganizations, removeMember, setContext } from '../../entities/workspace-store.ts'
import { defineTool } from '../tool-registry.ts'
import { requireFields } from './require-fields.ts'

const input = z
  .strictObject({
    operation: z
      .enum(['list_organizations', 'get_context', 'set_context', 'add_member', 'remove_member', 'list_invitations', 'accept_invitation', 'decline_invitation'])
      .describe(
        'list_organizations (with your role in each) | get_context | set_context (active organization and project, used as defaults when creating entities) | ' +
          'add_member (by email: invites; by user_id: changes a member\'s role) | remove_member | list_invitations (addressed to you) | accept_invitation | decline_invitation',
      ),
    organization_id: z.uuid().optional().describe('set_context: the organization to make active; add_member, remove_member, accept_invitation and decline_invitation: the organization.'),
    project_id: z.uuid().optional().describe('set_context: the project to make active (its organization becomes active too).'),
    user_id: z.uuid().optional().describe('add_member: the member whose role changes; remove_member: the member to remove.'),
    // Length first, and the format check only within it: zod's email pattern takes hundreds of
    // milliseconds over a body-sized string.
    email: z.string().check(z.maxLength(EMAIL_MAX_LENGTH, { abort: true }), z.email()).optional().describe('add_member: the address to invite (the invitee accepts with accept_invitation once signed in with it); remove_member: the member, or the invitation to withdraw.'),
    role: z.enum(MEMBER_ROLES).optional().describe('add_member: owner | admin | member | viewer; default member.'),
  })
  .superRefine((value, ctx) => {
    if (value.operation === 'set_context' && value.organization_id === undefined && value.project_id === undefined) {
      requireFields(ctx, value, ['organization_id'], 'set_context without project_id')
    }
    if (value.operation === 'add_member' || value.operation === 'remove_member') {
      requireFields(ctx, value, ['organization_id'], value.operation)
      if (value.user_id === undefined && value.email === undefined) requireFields(ctx, value, ['user_id'], `${value.operation} without email`)
    }
    if (value.operation === 'accept_invitation' || value.operation === 'decline_invitation') requireFields(ctx, value, ['organization_id'], value.operation)
  })

export const workspaceTool = defineTool({
  name: 'workspace_tool',
  title: 'Workspace',
  description:
    'The organizations you belong to, your active context (organization and project, kept between sessions), and membership: owners and admins invite people by email, ' +
    'change members\' roles and remove members; invitees accept or decline.',
  input,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
  run(args, { db, user }) {
    return asUser(db, user, async (tx) => {
      switch (args.operation) {
        case 'list_organizations':
          return { organizations: await listOrganizations(tx) }
        case 'get_context':
          return getContext(tx)
        case 'set_context':
          return setContext(tx, { organization_id: args.organization_id, project_id: args.project_id })
        case 'add_member':
          return addMember(tx, { organization_id: args.organization_id!, user_id: args.user_id, email: args.email, role: args.role ?? 'member' })
        case 'remove_member':
          return removeMember(tx, { organization_id: args.organization_id!, user_id: args.user_id, email: args.email })
        case 'list_invitations':
          return { invitations: await listInvitations(tx) }
        case 'accept_invitation':
          return acceptInvitation(tx, args.organization_id!)
        case 'decline_invitation':
          return declineInvitation(tx, args.organization_id!)
      }
    })
  },
})

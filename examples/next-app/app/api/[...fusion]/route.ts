import { createNextRouteHandlers } from '@fusionkit/next';
import { fusion } from '@/lib/fusion';

// The orchestrator needs Node (not the Edge runtime), and its answers are never static.
export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

// This file sits at app/api/[...fusion]: the OpenAI-compatible API answers at /api/v1/*.
export const { GET, POST, DELETE, OPTIONS } = createNextRouteHandlers(fusion, { basePath: '/api' });
